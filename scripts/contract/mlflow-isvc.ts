// Prints the InferenceService the reference stack declares for one registered MLflow model version,
// given as JSON on argv[2] ({isvcName, name, version, runId, artifactUri}), and the policies of the
// model's own Pod Identity role: {isvc, policies: {"<namespace>/<serviceAccount>": [documents]}},
// with the stack's names replaced by the contract's. The KServe contract test calls it with what
// the real MLflow reports after registering a model, so the model it serves went through
// KServeOnAws and MlflowInferenceService (lineage annotations, artifact URI resolution, the grant of
// exactly that model's artifacts) unchanged.
import { App } from 'aws-cdk-lib';
import { KubernetesManifests, MlopsStack } from '../../lib';
import { contractBuckets, podPolicies, withContractNames } from './identities';
import { CONTRACT } from '../../test/contract/endpoints';

const input = JSON.parse(process.argv[2] ?? '{}');
const stack = new MlopsStack(new App(), 'Registered', {
  kserve: { models: [{ name: input.isvcName, mlflowModelVersion: { name: input.name, version: input.version, runId: input.runId, artifactUri: input.artifactUri } }] },
});
const isvc = KubernetesManifests.fromStack(stack).map(o => o.object).find(o => o.kind === 'InferenceService');
const account = `${isvc.metadata.namespace}/${isvc.spec.predictor.serviceAccountName}`;
const policies = podPolicies(stack, contractBuckets(stack), CONTRACT.awsRegion);
process.stdout.write(JSON.stringify({ isvc: JSON.parse(withContractNames(stack, JSON.stringify(isvc))), policies: { [account]: policies[account] } }));
