// Feast with an in-cluster Redis on any Kubernetes cluster: no AWS, no managed Redis.
//
//   node -r ./scripts/register.js examples/feast-on-any-cluster.ts   # writes dist/feast-example/*.k8s.yaml
//
// Before applying: the namespace `features` exists (Pod Security "restricted" is fine), the
// Secret `redis-auth` (key `password`) is there, and the Feast pods have S3 credentials for the
// bucket (IRSA, or `serviceAccountAnnotations`, or your platform's equivalent). The test suite
// synthesizes this file and validates what it emits (test/support/objects.ts).
import * as cdk8s from 'cdk8s';
import { FeastFeatureStore, RedisServer } from '../lib';

export function buildFeastExample(app: cdk8s.App): { redis: RedisServer; feast: FeastFeatureStore } {
  const namespace = 'features';
  // One Valkey node with its append-only file on a 2 GiB claim; only pods with its client label get in.
  const redis = new RedisServer(app, 'redis', { namespace, passwordSecretName: 'redis-auth' });
  const feast = new FeastFeatureStore(app, 'feast', {
    namespace,
    project: 'shop',
    registryPath: 's3://ml-features/feast/registry.pb',
    s3EndpointUrl: 'http://minio.storage:9000', // omit for AWS S3
    onlineStore: {
      connectionString: redis.endpoint,         // redis.features.svc:6379
      tls: false,                               // in-cluster traffic; the NetworkPolicy admits only Feast
      passwordSecretName: 'redis-auth',
      clientPodLabels: redis.clientLabels,      // lets the server and the materializer through Redis's policy
    },
    materialization: { schedule: '*/30 * * * *' },
    clientNamespaces: [namespace, 'training'],  // pods labelled feast.cdk-mlops-stack.io/client: "true"
  });
  return { redis, feast };
}

if (require.main === module) {
  const app = new cdk8s.App({ outdir: 'dist/feast-example' });
  buildFeastExample(app);
  app.synth();
}
