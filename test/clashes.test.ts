import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import {
  CLUSTER_SCOPED_KINDS, findClashes, isClusterScoped, KubernetesManifests, MlflowOnAws, MlflowServer, MlopsStack, objectIdentity,
} from '../lib';
import { FIXTURE_CRDS } from './support/tools';

/** The reference stack plus a second MLflow in its namespace, as a user would add one. */
function stackWithSecondMlflow(name?: string): { app: App; stack: MlopsStack } {
  const app = new App();
  const stack = new MlopsStack(app, 'MlopsStack');
  new MlflowOnAws(stack, 'TeamB', {
    name,
    platform: stack.componentPlatform,
    namespace: stack.namespaces.mlflow,
  });
  return { app, stack };
}

describe('two objects with the same identity fail synth, naming both constructs', () => {
  test('a second Mlflow with the default name in the same namespace', () => {
    const { app } = stackWithSecondMlflow();
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = String(e);
    }
    expect(message).toContain('MlopsStack/Platform/Cluster/MlflowChart and MlopsStack/Platform/Cluster/TeamBChart both emit');
    // Every object of the pair is named, the database URI Secret's source among them.
    for (const identity of ['apps/Deployment mlflow/mlflow', 'core/Service mlflow/mlflow', 'core/ServiceAccount mlflow/mlflow',
      'networking.k8s.io/NetworkPolicy mlflow/mlflow', 'external-secrets.io/ExternalSecret mlflow/mlflow-db']) {
      expect(message).toContain(`both emit ${identity};`);
    }
  });

  test('a second Mlflow with its own name synthesizes, with objects and Secrets of its own', () => {
    const { app, stack } = stackWithSecondMlflow('mlflow-team-b');
    expect(() => app.synth()).not.toThrow();
    const identities = KubernetesManifests.fromStack(stack).map(o => objectIdentity(o.object));
    expect(identities).toEqual(expect.arrayContaining([
      'apps/Deployment mlflow/mlflow', 'apps/Deployment mlflow/mlflow-team-b',
      'external-secrets.io/ExternalSecret mlflow/mlflow-db', 'external-secrets.io/ExternalSecret mlflow/mlflow-team-b-db',
    ]));
    expect(new Set(identities).size).toBe(identities.length);
  });

  test('a raw manifest that redefines a namespace of the stack', () => {
    const app = new App();
    const stack = new MlopsStack(app, 'MlopsStack');
    stack.cluster.addManifest('Mine', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mlflow', labels: {} } });
    expect(() => app.synth()).toThrow(/MlopsStack\/Platform\/Cluster\/WorkloadNamespace and MlopsStack\/Platform\/Cluster\/manifest-Mine both emit core\/Namespace mlflow;/);
  });

  test('two MlflowServer charts with one name in one namespace of a cdk8s app', () => {
    const app = new cdk8s.App();
    const props = { namespace: 'ml', backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow' };
    new MlflowServer(app, 'A', props);
    new MlflowServer(app, 'B', props);
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = String(e);
    }
    expect(message).toMatch(/A\/Deployment and B\/Deployment both emit apps\/Deployment ml\/mlflow;/);
    // The check is registered once per app, however many charts ask for it: one message per pair.
    expect(message.split('both emit apps/Deployment ml/mlflow;').length - 1).toBe(1);
  });

  test('the same charts with different names, or in different namespaces, synthesize', () => {
    const app = new cdk8s.App();
    const props = { backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow' };
    new MlflowServer(app, 'A', { ...props, namespace: 'ml' });
    new MlflowServer(app, 'B', { ...props, namespace: 'ml', name: 'mlflow-b' });
    new MlflowServer(app, 'C', { ...props, namespace: 'other' });
    expect(() => app.charts.forEach(c => c.toJson())).not.toThrow();
  });
});

test('an object\'s identity is group, kind, namespace and name; cluster-scoped kinds have no namespace', () => {
  expect(objectIdentity({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'n' } })).toBe('apps/Deployment n/a');
  expect(objectIdentity({ apiVersion: 'apps/v1beta2', kind: 'Deployment', metadata: { name: 'a', namespace: 'n' } })).toBe('apps/Deployment n/a');
  expect(objectIdentity({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } })).toBe('core/ConfigMap default/a');
  expect(objectIdentity({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', namespace: 'x' } })).toBe('core/Namespace a');
});

test('a stray namespace on a cluster-scoped object does not hide a clash', () => {
  for (const kind of CLUSTER_SCOPED_KINDS) {
    const object = (namespace: string) => ({ apiVersion: 'x/v1', kind, metadata: { name: 'a', namespace } });
    expect(findClashes([{ object: object('one'), owner: 'A' }, { object: object('two'), owner: 'B' }])).toHaveLength(1);
  }
  expect(findClashes([
    { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'one' } }, owner: 'A' },
    { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'two' } }, owner: 'B' },
  ])).toEqual([]);
});

test('the cluster-scoped kinds agree with the scope of every vendored CRD', () => {
  const crds = fs.readdirSync(FIXTURE_CRDS).flatMap(dir => fs.readdirSync(path.join(FIXTURE_CRDS, dir))
    .flatMap(file => parseAllDocuments(fs.readFileSync(path.join(FIXTURE_CRDS, dir, file), 'utf8')).map(d => d.toJSON())))
    .filter(d => d?.kind === 'CustomResourceDefinition');
  expect(crds.length).toBeGreaterThanOrEqual(7);
  for (const crd of crds) {
    expect({ kind: crd.spec.names.kind, clusterScoped: isClusterScoped(crd.spec.names.kind) })
      .toEqual({ kind: crd.spec.names.kind, clusterScoped: crd.spec.scope === 'Cluster' });
  }
});
