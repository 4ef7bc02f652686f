// Drift checks of a KServe model on any Kubernetes cluster (no AWS): the payload logs and reports
// on an S3-compatible store, the figures as one JSON log line per run for your log pipeline.
//
//   node -r ./scripts/register.js examples/drift-on-any-cluster.ts   # writes dist/drift-example/*.k8s.yaml
//
// Before applying: build and push jobs/drift/Dockerfile, create the namespace `monitoring`, and
// give its ServiceAccount `drift-iris` read access to the reference and the logs and write access
// to the reports (IRSA, a credentials Secret, or your platform's equivalent). The test suite
// synthesizes this file and validates what it emits (test/support/objects.ts).
import * as cdk8s from 'cdk8s';
import { DriftMonitor, EvidentlyUi } from '../lib';

export function buildDriftExample(app: cdk8s.App): DriftMonitor {
  const image = 'registry.example.com/mlops/drift-job:1';
  // Evidently's UI over the runs the checks add to the workspace (kubectl port-forward svc/evidently-ui 8000).
  new EvidentlyUi(app, 'evidently-ui', { image, workspaceUri: 's3://ml-reports/workspace', s3EndpointUrl: 'http://minio.storage:9000', awsRegion: 'us-east-1' });
  return new DriftMonitor(app, 'drift-iris', {
    image,
    model: 'iris',
    referenceUri: 's3://ml-data/reference/iris.parquet',
    payloadLogsUri: 's3://ml-payloads/payload-logs/serving/iris/predictor/predictions/',
    reportsUri: 's3://ml-reports/drift',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    driftShare: 0.5,
    workspaceUri: 's3://ml-reports/workspace',
    s3EndpointUrl: 'http://minio.storage:9000',
    awsRegion: 'us-east-1',
  });
}

if (require.main === module) {
  const app = new cdk8s.App({ outdir: 'dist/drift-example' });
  buildDriftExample(app);
  app.synth();
}
