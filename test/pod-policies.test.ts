// Every S3 location a workload names (in its args, env, mounted ConfigMaps or InferenceService) is
// one its own Pod Identity role may reach: the fast, template-only half of the contract tests'
// evaluated IAM (test/contract/identity.py), which catches a URI and a grant drifting apart.
import { KubernetesManifests, StackProfile } from '../lib';
import { synthReference } from './support/synth';

const MODELS = [
  { name: 'churn', mlflowModelVersion: { name: 'churn', version: '2', runId: 'r1', artifactUri: 'mlflow-artifacts:/1/models/m-9/artifacts' },
    driftCheck: { features: ['tenure', 'charges'] } },
];

type Json = any;

/** `arn:aws:s3:::${Ref:Bucket}/prefix/*` patterns of the object actions each role is allowed. */
function objectPatterns(template: Json): Map<string, string[]> {
  const render = (value: Json): string => {
    if (typeof value === 'string') return value;
    if (value.Ref) return `\${Ref:${value.Ref}}`;
    if (value['Fn::GetAtt']) {
      const [id, attribute] = value['Fn::GetAtt'];
      return attribute === 'Arn' ? `arn:aws:s3:::\${Ref:${id}}` : `\${${id}.${attribute}}`;
    }
    if (value['Fn::Join']) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
    throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
  };
  const byRole = new Map<string, string[]>();
  for (const policy of Object.values(template.Resources) as Json[]) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow' || ![statement.Action].flat().some((a: string) => /^s3:(GetObject|PutObject)$/.test(a))) continue;
      for (const role of policy.Properties.Roles ?? []) {
        byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...[statement.Resource].flat().map(render)]);
      }
    }
  }
  return byRole;
}

/** Whether a role with `patterns` reaches `uri`: the object itself, or something below the prefix it names. */
function reaches(patterns: string[], uri: string): boolean {
  const arn = `arn:aws:s3:::${uri.slice('s3://'.length).replace(/\/$/, '')}`;
  return patterns.some(pattern => {
    const regex = new RegExp(`^${pattern.split('*').map(p => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return regex.test(arn) || regex.test(`${arn}/object`) || pattern.split('*')[0].startsWith(`${arn}/`);
  });
}

// A URI names a bucket: a bare "s3://" is code (the S3 bridge of Feast's image matches on it).
const s3Uris = (value: Json): string[] => (JSON.stringify(value).match(/s3:\/\/[^"\s,/\\]+[^"\s,]*/g) ?? []).map(u => u.replace(/\\n?$/, ''));

/** Each workload of the stack: its namespace, ServiceAccount and the S3 URIs it is given. */
function workloads(objects: Json[]): { name: string; namespace: string; serviceAccount: string; uris: string[] }[] {
  const configMaps = objects.filter(o => o.kind === 'ConfigMap');
  const out = [];
  for (const o of objects) {
    const namespace = o.metadata?.namespace;
    if (o.kind === 'InferenceService') {
      const predictor = o.spec.predictor;
      out.push({ name: `InferenceService ${o.metadata.name}`, namespace, serviceAccount: predictor.serviceAccountName, uris: s3Uris(predictor) });
      continue;
    }
    const template = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : ['Deployment', 'StatefulSet', 'Job'].includes(o.kind) ? o.spec.template : undefined;
    if (!template) continue;
    const mounted = (template.spec.volumes ?? []).filter((v: Json) => v.configMap)
      .map((v: Json) => configMaps.find(c => c.metadata.name === v.configMap.name && c.metadata.namespace === namespace)?.data);
    const containers = [...(template.spec.initContainers ?? []), ...template.spec.containers]
      .map((c: Json) => ({ command: c.command, args: c.args, env: c.env }));
    out.push({ name: `${o.kind} ${namespace}/${o.metadata.name}`, namespace, serviceAccount: template.spec.serviceAccountName ?? 'default',
      uris: [...s3Uris(containers), ...s3Uris(mounted)] });
  }
  return out;
}

test.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('%s: every S3 URI a workload names is reachable by its own role', (profile) => {
  const { stack, template } = synthReference(profile, { evidently: { ui: true }, kserve: { models: MODELS } });
  const json = template.toJSON();
  const patterns = objectPatterns(json);
  const roleOf = new Map(Object.values(json.Resources as Json).filter((r: Json) => r.Type === 'AWS::EKS::PodIdentityAssociation')
    .map((r: Json) => [`${r.Properties.Namespace}/${r.Properties.ServiceAccount}`, r.Properties.RoleArn['Fn::GetAtt'][0]]));
  const checked = workloads(KubernetesManifests.fromStack(stack).map(o => o.object)).filter(w => w.uris.length > 0);
  // The workloads that name S3 in this stack: MLflow, Feast's server and materializer, the model
  // (storage and payload logs), its drift check and the UI. Fewer would mean the scan went blind.
  expect(checked.length).toBeGreaterThanOrEqual(6);
  const unreachable = checked.flatMap(w => {
    const role = roleOf.get(`${w.namespace}/${w.serviceAccount}`);
    return w.uris.filter(uri => !role || !reaches(patterns.get(role) ?? [], uri)).map(uri => `${w.name} (${w.serviceAccount}): ${uri}`);
  });
  expect(unreachable).toEqual([]);
});

test('the check sees a URI outside its role: a drift reference under a prefix the role lacks', () => {
  expect(reaches(['arn:aws:s3:::${Ref:B}/references/iris/*'], 's3://${Ref:B}/references/iris.parquet')).toBe(false);
  expect(reaches(['arn:aws:s3:::${Ref:B}/references/iris.parquet'], 's3://${Ref:B}/references/iris.parquet')).toBe(true);
  expect(reaches(['arn:aws:s3:::${Ref:B}/reports/iris/*'], 's3://${Ref:B}/reports')).toBe(true);
  expect(reaches(['arn:aws:s3:::${Ref:B}/reports/iris/*'], 's3://${Ref:Other}/reports')).toBe(false);
  expect(reaches(['arn:aws:s3:::${Ref:B}/mlflow/*/models/*'], 's3://${Ref:B}/mlflow/1/models/m-9/artifacts')).toBe(true);
});

