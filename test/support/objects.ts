import * as cdk8s from 'cdk8s';
import {
  AwsSecretStore, ExternalSecretObject, FeastFeatureStore, FeastRedisType, KubernetesManifests, MlflowServer,
  RestrictedNamespace, StackProfile,
} from '../../lib';
import { buildDagsterExample } from '../../examples/dagster-on-any-cluster';
import { buildDriftExample } from '../../examples/drift-on-any-cluster';
import { buildFeastExample } from '../../examples/feast-on-any-cluster';
import { buildKServeExample } from '../../examples/kserve-on-any-cluster';
import { renderHelmReleases } from './helm';
import { PROFILES, synthReference } from './synth';
import { SourcedObject } from './tools';

// What the tests validate: every Kubernetes object the library emits, from the reference stack
// (both profiles, Helm releases rendered) and from its charts used standalone on any cluster.

/** The standalone cdk8s charts of the library, as a user on any cluster would synthesize them. */
export function standaloneCharts(): SourcedObject[] {
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
  new AwsSecretStore(app, 'Store', { region: 'eu-west-1', namespaces: ['team-a', 'team-b'] });
  const mlflow = { backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow' };
  new MlflowServer(app, 'MlflowDev', { ...mlflow, namespace: 'team-a' });
  new MlflowServer(app, 'MlflowProd', {
    ...mlflow, namespace: 'team-b', profile: StackProfile.PRODUCTION, s3EndpointUrl: 'http://minio:9000',
    ingress: { host: 'mlflow.example.com', allowFromCidrs: ['10.0.0.0/16'], controllerNamespace: 'ingress-nginx' },
    basicAuth: { secretName: 'mlflow-auth' },
  });
  // Feast with the in-cluster Redis (the example for any cluster), and in PRODUCTION against a managed Redis Cluster.
  buildFeastExample(app);
  buildDagsterExample(app);
  buildKServeExample(app);
  buildDriftExample(app);
  new FeastFeatureStore(app, 'FeastProd', {
    namespace: 'team-b', project: 'demo', profile: StackProfile.PRODUCTION, registryPath: 's3://bucket/feast/registry.pb',
    onlineStore: {
      connectionString: 'shard-1.example.com:6379,shard-2.example.com:6379', redisType: FeastRedisType.REDIS_CLUSTER,
      passwordSecretName: 'online-store', keyTtlSeconds: 86400,
    },
    materialization: { schedule: '*/15 * * * *', deadlineSeconds: 600 },
    clientNamespaces: ['team-b', 'serving'],
  });
  return app.charts.flatMap(c => c.toJson().map(object => ({ source: `cdk8s:${c.node.id}`, object })));
}

/** Per profile: the objects of the stack's manifests, and those its Helm releases render. */
export function stackObjects(): { manifests: SourcedObject[]; charts: SourcedObject[] }[] {
  return PROFILES.map(profile => {
    const { stack, template } = synthReference(profile);
    return {
      manifests: KubernetesManifests.fromStack(stack).map(({ logicalId, object }) => ({ source: `${profile}:${logicalId}`, object })),
      charts: renderHelmReleases(template.toJSON()).flatMap(r => r.objects.map(object => ({ source: `${profile}:helm:${r.release}`, object }))),
    };
  });
}
