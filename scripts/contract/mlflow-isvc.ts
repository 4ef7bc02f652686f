// Prints the InferenceService the library declares for one registered MLflow model version, given
// as JSON on argv[2]: {name, version, runId, artifactUri, artifactsDestination, trackingUri, and the
// storageContainerName and serviceAccountName the stack gives its models}. The KServe contract
// test calls it with what the real MLflow reports after registering a model, so the model it serves
// went through MlflowInferenceService (lineage annotations, artifact URI resolution) unchanged.
import * as cdk8s from 'cdk8s';
import { MlflowInferenceService } from '../../lib';

const input = JSON.parse(process.argv[2] ?? '{}');
const chart = new cdk8s.Chart(new cdk8s.App(), 'Registered');
new MlflowInferenceService(chart, 'Model', {
  name: input.isvcName,
  modelVersion: { name: input.name, version: input.version, runId: input.runId, artifactUri: input.artifactUri },
  artifactsDestination: input.artifactsDestination,
  trackingUri: input.trackingUri,
  storageContainerName: input.storageContainerName,
  serviceAccountName: input.serviceAccountName,
});
process.stdout.write(JSON.stringify(chart.toJson().find(o => o.kind === 'InferenceService')));
