import { App, Lazy, Stack } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import {
  AwsSecretStoreChart, DvcRemote, DvcRemoteProps, ExternalSecretObject, MlflowServer, MlopsCluster, MlopsStack, parseProfile,
  PodIdentityRole,
} from '../lib';

const stack = () => new Stack(new App(), 'S');
const dvc = (props: DvcRemoteProps) => () => new DvcRemote(stack(), 'Dvc', props);

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
    ['a secret store serving no namespace', () => new AwsSecretStoreChart(new cdk8s.App(), 'Store', { region: 'eu-west-1', namespaces: [] }),
      /Store: invalid prop 'namespaces' = \[\]; allowed: at least one namespace/],
    ['a secret store serving a namespace that is not a DNS label',
      () => new AwsSecretStoreChart(new cdk8s.App(), 'Store', { region: 'eu-west-1', namespaces: ['mlops', 'Team_B'] }),
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
    ['an unknown profile in the app context', () => parseProfile('staging', 'bin/app.ts (context)'),
      /bin\/app.ts \(context\): invalid prop 'profile' = "staging"; allowed: development, production/],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });
});

test('values only known at deploy time (CDK tokens) are not rejected at synth', () => {
  const name = Lazy.string({ produce: () => 'decided-at-deploy' });
  expect(() => new DvcRemote(stack(), 'Dvc', { bucketName: name })).not.toThrow();
});
