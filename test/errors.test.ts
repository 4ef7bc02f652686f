import { App, Lazy, Stack } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import {
  AwsSecretStore, DvcRemote, DvcRemoteProps, ExternalSecretObject, InferenceService, InferenceServiceProps, MlflowInferenceService,
  EvidentlyUi, MlflowServer, MlopsCluster, MlopsStack, ModelFormat, parseProfile, PayloadLogMode, PodIdentityRole, RedisServer, S3StorageContainer,
} from '../lib';
import { isS3Uri } from '../constructs/core/errors';

const stack = () => new Stack(new App(), 'S');
const dvc = (props: DvcRemoteProps) => () => new DvcRemote(stack(), 'Dvc', props);
const MODEL: InferenceServiceProps = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris' };
const model = (props: Partial<InferenceServiceProps>) => () => new InferenceService(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Iris', { ...MODEL, ...props });
const LOGGER = { mode: PayloadLogMode.ALL, url: 's3://logs/payloads', path: 'predictions' };

// Each message names the construct (its path), the prop and what is allowed.
describe('bad input fails at synth with a clear message', () => {
  test.each([
    ['a bucket name with uppercase and "_"', dvc({ bucketName: 'My_Bucket' }), /S\/Dvc: invalid prop 'bucketName' = "My_Bucket"; allowed: 3-63 characters/],
    ['a bucket name that is too short', dvc({ bucketName: 'ab' }), /'bucketName' = "ab"/],
    ['a bucket name shaped like an IP address', dvc({ bucketName: '192.168.10.1' }), /not an IP address/],
    ['a bucket name with ".."', dvc({ bucketName: 'a..b' }), /'bucketName' = "a..b"/],
    ['noncurrent-version expiry of 0 days', dvc({ noncurrentVersionExpirationDays: 0 }), /S\/Dvc: invalid prop 'noncurrentVersionExpirationDays' = 0; allowed: a whole number greater than 0/],
    ['noncurrent-version expiry of -5 days', dvc({ noncurrentVersionExpirationDays: -5 }), /'noncurrentVersionExpirationDays' = -5/],
    ['noncurrent-version expiry of 1.5 days', dvc({ noncurrentVersionExpirationDays: 1.5 }), /'noncurrentVersionExpirationDays' = 1.5/],
    ['expiry together with cloud versioning', dvc({ versionAware: true, noncurrentVersionExpirationDays: 30 }), /unset when versionAware is true/],
    ['access-log retention of 0 days', dvc({ accessLogRetentionDays: 0 }), /'accessLogRetentionDays' = 0/],
    ['a prefix with a leading "/"', dvc({ prefix: '/dvc' }), /S\/Dvc: invalid prop 'prefix' = "\/dvc"; allowed: a key prefix without leading or trailing/],
    ['a prefix with a trailing "/"', dvc({ prefix: 'dvc/' }), /'prefix' = "dvc\/"/],
    ['a remote name with a space', dvc({ remoteName: 'my remote' }), /'remoteName' = "my remote"; allowed: letters, digits/],
    ['an unsupported Kubernetes version', () => new MlopsCluster(stack(), 'Platform', { kubernetesVersion: '1.29' }),
      /S\/Platform: invalid prop 'kubernetesVersion' = "1.29"; allowed: 1.35/],
    ['an MLflow namespace that is not a DNS label', () => new MlopsStack(new App(), 'Stack', { mlflow: { namespace: 'MLOps_Team' } }),
      /^Stack: invalid prop 'mlflow.namespace' = "MLOps_Team"; allowed: an RFC 1123 DNS label/],
    ['a database instance identifier with two hyphens', () => new MlopsStack(new App(), 'Stack', { mlflow: { databaseInstanceIdentifier: 'ml--flow' } }),
      /^Stack\/Mlflow: invalid prop 'databaseInstanceIdentifier' = "ml--flow"; allowed: 1-63 lowercase letters/],
    ['a database instance identifier starting with a digit', () => new MlopsStack(new App(), 'Stack', { mlflow: { databaseInstanceIdentifier: '1mlflow' } }),
      /'databaseInstanceIdentifier' = "1mlflow"/],
    ['the server\'s own Secret named as the database admin Secret', () => new MlflowServer(new cdk8s.App(), 'Server', {
      backendStoreSecretName: 'db', backendStoreAdminSecretName: 'db', artifactsDestination: 's3://bucket/mlflow',
    }), /^Server: invalid prop 'backendStoreAdminSecretName' = "db"; allowed: a Secret other than backendStoreSecretName/],
    ['an MLflow client namespace that is not a DNS label', () => new MlflowServer(new cdk8s.App(), 'Server', {
      backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow', clientNamespaces: ['training', 'Team_B'],
    }), /^Server: invalid prop 'clientNamespaces' = "Team_B"; allowed: an RFC 1123 DNS label/],
    ['a secret store serving no namespace', () => new AwsSecretStore(new cdk8s.App(), 'Store', { region: 'eu-west-1', namespaces: [] }),
      /Store: invalid prop 'namespaces' = \[\]; allowed: at least one namespace/],
    ['a secret store serving a namespace that is not a DNS label',
      () => new AwsSecretStore(new cdk8s.App(), 'Store', { region: 'eu-west-1', namespaces: ['mlops', 'Team_B'] }),
      /Store: invalid prop 'namespaces' = "Team_B"; allowed: an RFC 1123 DNS label/],
    ['an ExternalSecret with no key to copy', () => new ExternalSecretObject(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Db', {
      namespace: 'mlops', secretName: 'db', remoteSecret: 'prod/db', keys: [], component: 'x',
    }), /C\/Db: invalid prop 'keys' = \[\]; allowed: at least one key to copy, or a template/],
    ['an ExternalSecret with an invalid name', () => new ExternalSecretObject(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Db', {
      namespace: 'mlops', secretName: 'DB.Credentials', remoteSecret: 'prod/db', keys: [{ secretKey: 'p', property: 'p' }], component: 'x',
    }), /invalid prop 'secretName' = "DB.Credentials"/],
    ['an MLflow name that is not a DNS label', () => new MlflowServer(new cdk8s.App(), 'Mlflow', {
      name: 'MLflow_Main', backendStoreSecretName: 'db', artifactsDestination: 's3://bucket/mlflow',
    }), /Mlflow: invalid prop 'name' = "MLflow_Main"; allowed: an RFC 1123 DNS label/],
    ['a pod identity for a namespace that is not a DNS label', () => {
      const s = new MlopsStack(new App(), 'Stack');
      return new PodIdentityRole(s, 'Trainer', { cluster: s.cluster, namespace: 'ML_Ops', serviceAccount: 'trainer' });
    }, /Stack\/Trainer: invalid prop 'namespace' = "ML_Ops"/],
    ['a pod identity for a ServiceAccount that is not a DNS label', () => {
      const s = new MlopsStack(new App(), 'Stack');
      return new PodIdentityRole(s, 'Trainer', { cluster: s.cluster, namespace: 'mlops', serviceAccount: 'Trainer SA' });
    }, /Stack\/Trainer: invalid prop 'serviceAccount' = "Trainer SA"/],
    ['a model format no enabled runtime serves', model({ modelFormat: 'pmml' as ModelFormat }),
      /^C\/Iris: invalid prop 'modelFormat' = "pmml"; allowed: one of sklearn, xgboost, lightgbm, mlflow, onnx, huggingface, tensorflow, pytorch/],
    ['a storage URI scheme KServe does not download', model({ storageUri: 'ftp://models/iris' }),
      /^C\/Iris: invalid prop 'storageUri' = "ftp:\/\/models\/iris"; allowed: s3:\/\/<bucket>\/<key>, gs:\/\/<bucket>\/<key>, pvc:\/\/<claim>\/<path>, https:\/\/<url> or hf:\/\/<owner>\/<model>/],
    ['a storage URI without a bucket', model({ storageUri: 's3://' }), /invalid prop 'storageUri' = "s3:\/\/"/],
    ['a protocol the runtime does not speak', model({ modelFormat: ModelFormat.MLFLOW, protocolVersion: 'v1' as any }),
      /^C\/Iris: invalid prop 'protocolVersion' = "v1"; allowed for mlflow \(runtime kserve-mlserver\): v2/],
    ['more minimum than maximum replicas', model({ minReplicas: 3, maxReplicas: 2 }),
      /^C\/Iris: invalid prop 'maxReplicas' = 2; allowed: a whole number, at least minReplicas \(3\)/],
    ['zero replicas', model({ minReplicas: 0 }), /invalid prop 'minReplicas' = 0; allowed: a whole number, at least 1 \(Standard mode does not scale to zero\)/],
    ['a canary above 100 percent', model({ canary: { name: 'v2', storageUri: 's3://models/v2', trafficPercent: 101 } }),
      /^C\/Iris: invalid prop 'canary.trafficPercent' = 101; allowed: a whole percent from 0 to 100/],
    ['a canary below 0 percent', model({ canary: { name: 'v2', storageUri: 's3://models/v2', trafficPercent: -5 } }), /'canary.trafficPercent' = -5/],
    ['GPUs without a node selector', model({ gpus: 1, tolerations: [{ key: 'nvidia.com/gpu' }] }),
      /^C\/Iris: invalid prop 'gpus' = 1; a GPU model needs a nodeSelector that picks GPU nodes and the tolerations of their taints/],
    ['GPUs without a toleration', model({ gpus: 1, nodeSelector: { gpu: 'yes' } }), /invalid prop 'gpus' = 1; a GPU model needs/],
    ['a payload logger without a mode', model({ logger: { ...LOGGER, mode: undefined as any } }),
      /^C\/Iris: invalid prop 'logger.mode' = undefined; allowed: one of all, request, response \(KServe has no default\)/],
    ['a payload logger without a path', model({ logger: { ...LOGGER, path: '' } }),
      /^C\/Iris: invalid prop 'logger.path' = ""; allowed: a non-empty relative key path.*without it the agent stores nothing/],
    ['a payload logger writing elsewhere than S3', model({ logger: { ...LOGGER, url: 'gs://logs/payloads' } }),
      /invalid prop 'logger.url' = "gs:\/\/logs\/payloads"; allowed: s3:\/\/<bucket>/],
    ['a batch interval that is not a Go duration', model({ logger: { ...LOGGER, batchInterval: '30 seconds' } }),
      /invalid prop 'logger.batchInterval' = "30 seconds"; allowed: a Go duration/],
    ['an MLflow version whose artifacts are not on the artifact store', () => new MlflowInferenceService(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Churn', {
      name: 'churn', artifactsDestination: 's3://artifacts/mlflow',
      modelVersion: { name: 'churn', version: '1', runId: 'r', artifactUri: 'models:/churn/1' },
    }), /^C\/Churn: invalid prop 'modelVersion.artifactUri' = "models:\/churn\/1"; allowed: mlflow-artifacts:\/<path>, or an s3:\/\/ URI under the artifacts destination s3:\/\/artifacts\/mlflow/],
    ['a storage container without a region', () => new S3StorageContainer(new cdk8s.Chart(new cdk8s.App(), 'C'), 'S3', { region: '' }),
      /^C\/S3: invalid prop 'region' = ""; allowed: an AWS region such as eu-west-1/],
    ['a model namespace that is not a DNS label', () => new MlopsStack(new App(), 'Stack', { kserve: { modelNamespace: 'Models' } }),
      /^Stack\/KServe: invalid prop 'modelNamespace' = "Models"/],
    ['an unknown profile in the app context', () => parseProfile('staging', 'bin/app.ts (context)'),
      /bin\/app.ts \(context\): invalid prop 'profile' = "staging"; allowed: development, production/],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

test.each([
  ['s3://bucket', true], ['s3://my.bucket-1/prefix/key.parquet', true], ['s3://bucket/', true],
  ['gs://bucket/key', false], ['/var/logs', false], ['s3://', false], ['s3://ab', false], ['s3://My_Bucket/key', false],
  ['s3://bucket/key with space', false], ['s3://-bucket/key', false], ['bucket/key', false], ['', false],
])('isS3Uri(%j) is %s', (uri, expected) => {
  expect(isS3Uri(uri)).toBe(expected);
});

test('isS3Uri accepts a value only known at deploy time', () => {
  expect(isS3Uri(`s3://${Lazy.string({ produce: () => 'bucket' })}/key`)).toBe(true);
});

test.each([
  ['the MLflow artifact store', () => new MlflowServer(new cdk8s.App(), 'Server', { backendStoreSecretName: 'db', artifactsDestination: 'gs://bucket/mlflow' }),
    /^Server: invalid prop 'artifactsDestination' = "gs:\/\/bucket\/mlflow"; allowed: an S3 URI/],
  ['the Evidently workspace', () => new EvidentlyUi(new cdk8s.App(), 'Ui', { image: 'drift:1', workspaceUri: '/data/workspace' }),
    /^Ui: invalid prop 'workspaceUri' = "\/data\/workspace"; allowed: an s3:\/\/<bucket>\[\/<prefix>\] URI/],
  ['the payload logger', model({ logger: { ...LOGGER, url: 'http://logs.example.com' } }),
    /^C\/Iris: invalid prop 'logger.url' = "http:\/\/logs.example.com"; allowed: s3:\/\/<bucket>\[\/<prefix>\]/],
  ['Redis client namespaces', () => new RedisServer(new cdk8s.App(), 'Redis', { passwordSecretName: 'r', clientNamespaces: ['Team_B'] }),
    /^Redis: invalid prop 'clientNamespaces' = "Team_B"; allowed: an RFC 1123 DNS label/],
])('a location that is not on S3, or a bad namespace, names its prop: %s', (_name, build, message) => {
  expect(build).toThrow(message);
});

test('values only known at deploy time (CDK tokens) are not rejected at synth', () => {
  const name = Lazy.string({ produce: () => 'decided-at-deploy' });
  expect(() => new DvcRemote(stack(), 'Dvc', { bucketName: name })).not.toThrow();
});
