import * as fs from 'fs';
import * as path from 'path';
import { KubernetesManifests } from '../lib';
import { scanDocument, scanText, SecretFinding } from './support/secrets';
import { PROFILES, synthReference } from './support/synth';

describe.each(PROFILES)('no secret value in the synthesized %s stack', profile => {
  const { stack, outdir } = synthReference(profile);
  const jsonFiles = fs.readdirSync(outdir).filter(f => f.endsWith('.json'));

  test('templates and assembly files', () => {
    expect(jsonFiles.length).toBeGreaterThanOrEqual(3);
    const findings: SecretFinding[] = jsonFiles.flatMap(f => {
      const text = fs.readFileSync(path.join(outdir, f), 'utf8');
      return [...scanText(f, text), ...scanDocument(f, JSON.parse(text))];
    });
    expect(findings).toEqual([]);
  });

  test('Kubernetes manifests', () => {
    const objects = KubernetesManifests.fromStack(stack);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.flatMap(o => scanDocument(o.logicalId, o.object))).toEqual([]);
  });
});

describe('the scanner finds planted secrets', () => {
  test.each([
    ['a literal RDS password', { Resources: { Db: { Properties: { MasterUserPassword: 'hunter2hunter2' } } } }],
    ['a literal Secrets Manager value', { Resources: { S: { Properties: { SecretString: '{"password":"x"}' } } } }],
    ['a literal env var secret', { spec: { containers: [{ env: [{ name: 'MLFLOW_TRACKING_PASSWORD', value: 'pw' }] }] } }],
    ['a Kubernetes Secret with data', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: 'b' } }],
  ])('%s', (_name, doc) => {
    expect(scanDocument('planted', doc)).toHaveLength(1);
  });

  test('an access key in text', () => {
    expect(scanText('planted', 'key AKIAABCDEFGHIJKLMNOP here')).toHaveLength(1);
  });

  test('references are not findings', () => {
    expect(scanDocument('ok', {
      MasterUserPassword: '{{resolve:secretsmanager:arn:secret:SecretString:password}}',
      env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      data: [{ secretKey: 'password', remoteRef: { key: 'prod/db', property: 'password' } }],
    })).toEqual([]);
  });
});
