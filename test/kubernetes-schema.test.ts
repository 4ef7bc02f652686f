import * as cdk8s from 'cdk8s';
import {
  AwsSecretStoreChart, ExternalSecretObject, KubernetesManifests, MlflowServer, RestrictedNamespace, StackProfile,
} from '../lib';
import { PROFILES, synthReference } from './support/synth';
import { SourcedObject, validateKubernetes } from './support/tools';

/** The standalone cdk8s charts of the library, as a user on any cluster would synthesize them. */
function standaloneCharts(): SourcedObject[] {
  const app = new cdk8s.App();
  const chart = new cdk8s.Chart(app, 'Standalone');
  new RestrictedNamespace(chart, 'Namespace', 'team-a');
  new ExternalSecretObject(chart, 'Db', {
    namespace: 'team-a',
    secretName: 'db-credentials',
    remoteSecret: 'prod/db',
    keys: [{ secretKey: 'password', property: 'password' }, { secretKey: 'username', property: 'username' }],
    component: 'example',
  });
  new AwsSecretStoreChart(app, 'Store', { region: 'eu-west-1', namespaces: ['team-a', 'team-b'] });
  const mlflow = { backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow' };
  new MlflowServer(app, 'MlflowDev', { ...mlflow, namespace: 'team-a' });
  new MlflowServer(app, 'MlflowProd', {
    ...mlflow, namespace: 'team-b', profile: StackProfile.PRODUCTION, s3EndpointUrl: 'http://minio:9000',
    ingress: { host: 'mlflow.example.com', allowFromCidrs: ['10.0.0.0/16'], controllerNamespace: 'ingress-nginx' },
    basicAuth: { secretName: 'mlflow-auth' },
  });
  return app.charts.flatMap(c => c.toJson().map(object => ({ source: `cdk8s:${c.node.id}`, object })));
}

function stackObjects(): SourcedObject[] {
  return PROFILES.flatMap(profile => KubernetesManifests.fromStack(synthReference(profile).stack)
    .map(({ logicalId, object }) => ({ source: `${profile}:${logicalId}`, object })));
}

describe('Kubernetes objects validate strictly against Kubernetes 1.35 and the shared CRDs', () => {
  const objects = [...stackObjects(), ...standaloneCharts()];
  const report = validateKubernetes(objects);

  test('every object the stack and the standalone charts emit is valid', () => {
    expect(report.failures).toEqual([]);
    expect(report.status).toBe(0);
    expect(report.validated).toBe(objects.length);
  });

  test('the custom resources are among them (the CRD path is exercised)', () => {
    const kinds = new Set(objects.map(o => `${o.object.apiVersion}/${o.object.kind}`));
    expect(kinds).toEqual(new Set([
      'v1/Namespace', 'external-secrets.io/v1/ClusterSecretStore', 'external-secrets.io/v1/ExternalSecret',
      'apps/v1/Deployment', 'v1/Service', 'v1/ServiceAccount', 'networking.k8s.io/v1/NetworkPolicy',
      'policy/v1/PodDisruptionBudget', 'networking.k8s.io/v1/Ingress',
    ]));
  });
});

describe('the validator rejects what the API server would reject', () => {
  const store = () => new AwsSecretStoreChart(new cdk8s.App(), 'S', { region: 'eu-west-1', namespaces: ['a'] }).toJson()[0];
  const broken: [string, any, RegExp][] = [
    ['an unknown field in a custom resource', { ...store(), spec: { ...store().spec, refreshIntervall: 60 } }, /refreshIntervall/],
    ['a field of the wrong type in a custom resource', { ...store(), spec: { ...store().spec, conditions: 'all' } }, /conditions/],
    ['a version the CRD no longer serves', { ...store(), apiVersion: 'external-secrets.io/v1beta1' }, /unknown kind/],
    ['an unknown field in a built-in kind', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' }, spec: { finalisers: [] } }, /finalisers/],
    ['an unknown field in metadata', { ...store(), metadata: { name: 'a', label: {} } }, /label/],
    ['a kind that does not exist', { apiVersion: 'v1', kind: 'Deploymnt', metadata: { name: 'a' } }, /unknown kind/],
  ];
  // One validator run for all cases; each case is a source of its own in the report.
  const result = validateKubernetes(broken.map(([name, object]) => ({ source: name, object })));

  test('the run fails', () => expect(result.status).toBe(1));

  test.each(broken)('%s', (name, _object, message) => {
    const failure = result.failures.find(f => f.source === name);
    expect(failure).toBeDefined();
    expect(failure!.errors.join('\n')).toMatch(message);
  });
});
