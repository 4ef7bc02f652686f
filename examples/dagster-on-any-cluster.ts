// Dagster with one code location on any Kubernetes cluster: no AWS.
//
//   node -r ./scripts/register.js examples/dagster-on-any-cluster.ts   # writes dist/dagster-example/*.k8s.yaml
//
// Before applying: the namespace `orchestration` exists (Pod Security "restricted" is fine); the
// Secret `dagster-db` holds DAGSTER_PG_HOST, DAGSTER_PG_PORT, DAGSTER_PG_DB, DAGSTER_PG_USERNAME and
// DAGSTER_PG_PASSWORD of a PostgreSQL database the user owns; the run pods (ServiceAccount
// `dagster-run`) have write access to the compute-log bucket. The test suite synthesizes this file
// and validates what it emits (test/support/objects.ts).
import * as cdk8s from 'cdk8s';
import { Dagster } from '../lib';

export function buildDagsterExample(app: cdk8s.App): Dagster {
  return new Dagster(app, 'dagster', {
    namespace: 'orchestration',
    databaseSecretName: 'dagster-db',
    computeLogBucket: 'ml-dagster-logs',
    s3EndpointUrl: 'http://minio.storage:9000', // omit for AWS S3
    codeLocations: [{
      name: 'pipelines',
      image: 'registry.example.com/ml/pipelines:2026.11.1', // your code, with dagster 1.13.27 in it
      module: 'pipelines.definitions',
      memory: '768Mi',
    }],
    readOnlyWebserver: true,                  // a second UI for people who only look
    clientNamespaces: ['orchestration', 'ml-platform'],
  });
}

if (require.main === module) {
  const app = new cdk8s.App({ outdir: 'dist/dagster-example' });
  buildDagsterExample(app);
  app.synth();
}
