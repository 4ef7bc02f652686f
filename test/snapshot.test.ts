import { App, Stack } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import { parse } from 'yaml';
import { AwsSecretStore, KubernetesManifests, ManifestSnapshot, StackProfile } from '../lib';
import { PROFILES, synthReference } from './support/synth';

describe.each(PROFILES)('Kubernetes manifests of the %s reference stack', profile => {
  const docs = KubernetesManifests.snapshotOf(synthReference(profile).stack);

  test('match the snapshot', () => {
    expect(docs).toMatchSnapshot();
  });

  test('are headed by the logical ID that applies them and free of volatile values', () => {
    for (const doc of docs) {
      expect(doc).toMatch(/^# [A-Za-z0-9]+\n/);
      expect(doc).not.toMatch(/\$\{Token\[TOKEN\.\d+\]\}|\b[0-9a-f]{64}\b/);
    }
  });

  test('the namespaces enforce Pod Security "restricted"', () => {
    const namespaces = docs.map(d => parse(d)).filter(o => o.kind === 'Namespace');
    expect(namespaces.map(n => n.metadata.name).sort()).toEqual(['cert-manager', 'dagster', 'external-secrets', 'feast', 'kserve', 'mlflow', 'models', 'monitoring']);
    for (const ns of namespaces) {
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
  });

  test('each component namespace has a secret store of its own, which reads through a role of its own', () => {
    const stores = docs.map(d => parse(d)).filter(o => o.kind === 'ClusterSecretStore');
    expect(stores.map(s => s.spec.conditions[0].namespaces).sort()).toEqual([['dagster'], ['feast'], ['mlflow']]);
    for (const store of stores) {
      const [ns] = store.spec.conditions[0].namespaces;
      expect(store.metadata.name).toBe(`aws-secrets-manager-${ns}`);
      expect(store.spec.provider.aws).toEqual({ service: 'SecretsManager', region: '${Ref:AWS::Region}', role: expect.stringMatching(new RegExp(`^\\$\\{ExternalSecretsStoreRole${ns}[0-9A-F]{8}\\.Arn\\}$`)) });
    }
  });
});

test('ManifestSnapshot.ofChart is stable when CDK token numbering changes', () => {
  const render = (extraTokensFirst: number) => {
    const stack = new Stack(new App(), 'S');
    for (let i = 0; i < extraTokensFirst; i++) void stack.resolve(stack.urlSuffix);
    const app = new cdk8s.App();
    return ManifestSnapshot.ofChart(new AwsSecretStore(app, 'Store', { region: `${stack.region}`, namespaces: ['b', 'a'] }));
  };
  const a = render(0);
  const b = render(25);
  expect(a).toEqual(b);
  expect(a[0]).toContain('region: ${Token}');
  expect(a[0]).toMatch(/namespaces:\n\s+- a\n\s+- b/);
});

test('ManifestSnapshot.normalize replaces asset hashes', () => {
  const hash = 'a'.repeat(64);
  expect(ManifestSnapshot.normalize(`image: x/${hash}:latest`)).toBe('image: x/<asset-hash>:latest');
});

test('StackProfile values are the documented names', () => {
  expect(Object.values(StackProfile)).toEqual(['development', 'production']);
});
