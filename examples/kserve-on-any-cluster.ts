// Models on any Kubernetes cluster with KServe v0.20 installed in Standard mode (no AWS).
//
//   node -r ./scripts/register.js examples/kserve-on-any-cluster.ts   # writes dist/kserve-example/*.k8s.yaml
//
// Before applying: KServe's charts are installed (see KServeInstall for the values the stack uses),
// the namespace `serving` exists, and its ServiceAccount `models` can read the bucket (IRSA, a
// KServe S3 Secret, or your platform's equivalent). The test suite synthesizes this file and
// validates what it emits (test/support/objects.ts).
import * as cdk8s from 'cdk8s';
import {
  InferenceProtocol, InferenceService, MlflowInferenceService, ModelFormat, PayloadLogFormat, PayloadLogMode, S3StorageContainer,
} from '../lib';

export function buildKServeExample(app: cdk8s.App): { iris: InferenceService; churn: MlflowInferenceService } {
  const chart = new cdk8s.Chart(app, 'kserve');
  const namespace = 'serving';
  // s3:// models are downloaded with these settings (region; the endpoint only off AWS).
  const storage = new S3StorageContainer(chart, 'storage', { region: 'eu-west-1', endpointUrl: 'http://minio.storage:9000' });
  const logger = { mode: PayloadLogMode.ALL, url: 's3://ml-payloads/payload-logs', path: 'predictions' };

  const iris = new InferenceService(chart, 'iris', {
    name: 'iris',
    namespace,
    modelFormat: ModelFormat.SKLEARN,
    protocolVersion: InferenceProtocol.V2,
    storageUri: 's3://ml-models/iris/v3',
    serviceAccountName: 'models',
    storageContainerName: storage.name,
    minReplicas: 1,
    maxReplicas: 3,                                // a HorizontalPodAutoscaler on CPU, 75% of the request
    // Standard mode splits no traffic: the canary answers at its own Service (iris.canaryUrl).
    canary: { name: 'v4', storageUri: 's3://ml-models/iris/v4', trafficPercent: 10 },
    logger: { ...logger, format: PayloadLogFormat.PARQUET, batchSize: 100, batchInterval: '1m' },
    clientNamespaces: [namespace, 'apps'],        // pods labelled models.cdk-mlops-stack.io/client: "true"
  });

  // A version registered in MLflow (values from MlflowClient().get_model_version("churn", "7")).
  const churn = new MlflowInferenceService(chart, 'churn', {
    name: 'churn',
    namespace,
    serviceAccountName: 'models',
    storageContainerName: storage.name,
    modelVersion: { name: 'churn', version: '7', runId: '4f1c2a9be0d34c1e8a7b6d5c4e3f2a1b', artifactUri: 'mlflow-artifacts:/3/models/m-0123456789abcdef/artifacts' },
    artifactsDestination: 's3://ml-artifacts/mlflow',
    trackingUri: 'http://mlflow.mlflow.svc:5000',
    logger,
  });

  // A GPU model: the node selector and toleration reach the GPU node pool.
  new InferenceService(chart, 'summarizer', {
    name: 'summarizer',
    namespace,
    modelFormat: ModelFormat.HUGGINGFACE,
    storageUri: 'hf://google-t5/t5-small',
    serviceAccountName: 'models',
    cpu: '2',
    memory: '8Gi',
    gpus: 1,
    nodeSelector: { 'eks.amazonaws.com/instance-gpu-manufacturer': 'nvidia' },
    tolerations: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
  });
  return { iris, churn };
}

if (require.main === module) {
  const app = new cdk8s.App({ outdir: 'dist/kserve-example' });
  buildKServeExample(app);
  app.synth();
}
