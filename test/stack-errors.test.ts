import { App } from 'aws-cdk-lib';
import { MlopsStack, MlopsStackProps, ModelFormat, StackProfile } from '../lib';

// Tried as a user would: two stacks in one app, the mistake in the second. Every message names
// the construct from the app down (so it says which stack and which model) and the prop as the
// user wrote it in MlopsStackProps, not the chart-internal path or prop it reached.
const MODEL = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris' };
const LOCATION = { name: 'etl', image: 'registry.example.com/etl:1', module: 'etl.definitions' };
const VERSION = { name: 'churn', version: '2', runId: 'r1', artifactUri: 'mlflow-artifacts:/1/models/m-9/artifacts' };

function messageOf(props: MlopsStackProps): string {
  const app = new App();
  new MlopsStack(app, 'TeamA');
  try {
    new MlopsStack(app, 'TeamB', props);
  } catch (e) {
    return String((e as Error).message);
  }
  return 'no error';
}

const models = (...list: object[]) => ({ kserve: { models: list as any, modelSourceBuckets: [{ bucketName: 'models', prefix: 'iris' }] } });

describe('a bad prop is reported at its construct path from the app, as the user wrote it', () => {
  test.each<[string, MlopsStackProps, string, string]>([
    ['MLflow replicas', { mlflow: { replicas: 0 } }, 'TeamB/Mlflow', 'replicas'],
    ['MLflow workers', { mlflow: { workers: 0 } }, 'TeamB/Mlflow', 'workers'],
    ['MLflow single replica in PRODUCTION', { profile: StackProfile.PRODUCTION, mlflow: { replicas: 1 } }, 'TeamB/Mlflow', 'replicas'],
    ['MLflow name', { mlflow: { name: 'ML_flow' } }, 'TeamB/Mlflow', 'name'],
    ['MLflow client namespace', { mlflow: { clientNamespaces: ['Team_B'] } }, 'TeamB/Mlflow', 'clientNamespaces'],
    ['MLflow namespace', { mlflow: { namespace: 'ML_Ops' } }, 'TeamB', 'mlflow.namespace'],
    ['MLflow ingress host', { mlflow: { ingress: { host: 'MLflow Host' } } }, 'TeamB/Mlflow', 'ingress.host'],
    ['MLflow database CA bundle that is not PEM', { mlflow: { databaseCaCertificates: 'not a certificate' } }, 'TeamB/Mlflow', 'databaseCaCertificates'],
    ['Feast namespace', { feast: { namespace: 'Feast_NS' } }, 'TeamB', 'feast.namespace'],
    ['Feast replication group id', { feast: { replicationGroupId: 'Feast--store' } }, 'TeamB/Feast', 'replicationGroupId'],
    ['Dagster namespace', { dagster: { namespace: 'Dagster_NS' } }, 'TeamB', 'dagster.namespace'],
    ['Dagster client namespace', { dagster: { clientNamespaces: ['Team_B'] } }, 'TeamB/Dagster', 'clientNamespaces'],
    ['Dagster code-location name', { dagster: { codeLocations: [{ ...LOCATION, name: 'ETL_1' }] } }, 'TeamB/Dagster', 'codeLocations[0].name'],
    ['Feast replicas', { feast: { replicas: 0 } }, 'TeamB/Feast', 'replicas'],
    ['Feast maxReplicas below replicas', { feast: { replicas: 3, maxReplicas: 2 } }, 'TeamB/Feast', 'maxReplicas'],
    ['Feast project', { feast: { project: 'my project' } }, 'TeamB/Feast', 'project'],
    ['Feast materialization schedule', { feast: { materializationSchedule: 'hourly' } }, 'TeamB/Feast', 'materializationSchedule'],
    ['Feast client namespace', { feast: { clientNamespaces: ['Team_B'] } }, 'TeamB/Feast', 'clientNamespaces'],
    ['Feast cache nodes', { feast: { cacheNodes: 0 } }, 'TeamB/Feast', 'cacheNodes'],
    ['Dagster code-location image', { dagster: { codeLocations: [{ ...LOCATION, image: '' }] } }, 'TeamB/Dagster', 'codeLocations[0].image'],
    ['Dagster code-location module', { dagster: { codeLocations: [{ ...LOCATION, module: 'etl-definitions' }] } }, 'TeamB/Dagster', 'codeLocations[0].module'],
    ['Dagster code-location port', { dagster: { codeLocations: [{ ...LOCATION, port: 0 }] } }, 'TeamB/Dagster', 'codeLocations[0].port'],
    ['Dagster code locations with one name', { dagster: { codeLocations: [LOCATION, { ...LOCATION }] } }, 'TeamB/Dagster', 'codeLocations[1].name'],
    ['Dagster run concurrency', { dagster: { maxConcurrentRuns: 0 } }, 'TeamB/Dagster', 'maxConcurrentRuns'],
    ['KServe controller namespace', { kserve: { namespace: 'K_Serve' } }, 'TeamB/KServe', 'namespace'],
    ['KServe model namespace', { kserve: { modelNamespace: 'Models_1' } }, 'TeamB/KServe', 'modelNamespace'],
    ['a model name', models({ ...MODEL, name: 'Iris_1' }), 'TeamB/KServe', 'models[0].name'],
    ['two models with one name', models(MODEL, { ...MODEL }), 'TeamB/KServe', 'models[1].name'],
    ['a model\'s GPUs without GPU nodes', models({ ...MODEL, gpus: 1 }), 'TeamB/KServe/models/iris', 'gpus'],
    ['a model\'s minReplicas', models({ ...MODEL, minReplicas: 0 }), 'TeamB/KServe/models/iris', 'minReplicas'],
    ['a model\'s maxReplicas', models({ ...MODEL, minReplicas: 3, maxReplicas: 2 }), 'TeamB/KServe/models/iris', 'maxReplicas'],
    ['a model\'s scale target', models({ ...MODEL, scaleTarget: 0 }), 'TeamB/KServe/models/iris', 'scaleTarget'],
    ['a model\'s memory limit below its request', models({ ...MODEL, memory: '1Gi', memoryLimit: '512Mi' }), 'TeamB/KServe/models/iris', 'memoryLimit'],
    ['a model\'s CPU limit below its request', models({ ...MODEL, cpu: '2', cpuLimit: '1' }), 'TeamB/KServe/models/iris', 'cpuLimit'],
    ['a model on gs://', models({ ...MODEL, storageUri: 'gs://models/iris' }), 'TeamB/KServe/models/iris', 'storageUri'],
    ['a model with no storage', models({ name: 'iris' }), 'TeamB/KServe/models/iris', 'storageUri'],
    ['an MLflow version by runs:/ URI', models({ name: 'churn', mlflowModelVersion: { ...VERSION, artifactUri: 'runs:/r1/model' } }),
      'TeamB/KServe/models/churn', 'mlflowModelVersion.artifactUri'],
    ['a drift share above 1', models({ ...MODEL, driftCheck: { driftShare: 2 } }), 'TeamB/KServe/models/iris', 'driftCheck.driftShare'],
    ['a model that sets what the stack sets', models({ ...MODEL, namespace: 'other' }), 'TeamB/KServe/models/iris', 'namespace'],
    ['a drift check without payload logs', { kserve: { payloadLogging: false, models: [{ ...MODEL, driftCheck: {} }] } }, 'TeamB/KServe/models/iris', 'driftCheck'],
    ['an Evidently namespace', { evidently: { namespace: 'Drift_NS' }, ...models({ ...MODEL, driftCheck: {} }) }, 'TeamB/Drift', 'namespace'],
    ['a drift window of 0 minutes', models({ ...MODEL, driftCheck: { windowMinutes: 0 } }), 'TeamB/KServe/models/iris', 'driftCheck.windowMinutes'],
  ])('%s', (_, props, where, prop) => {
    const message = messageOf(props);
    expect(message.startsWith(`${where}: invalid prop '${prop}' = `)).toBe(true);
    expect({ message }).toEqual({ message: expect.stringMatching(/; (allowed|a |the |drift |needs |give )/) });
    expect(message).not.toMatch(/Token\[|#\{/);
  });
});

test('an MLflow URI error names the artifact store in words, not as an unresolved token', () => {
  const message = messageOf(models({ name: 'churn', mlflowModelVersion: { ...VERSION, artifactUri: 'file:///tmp/m' } }));
  expect(message).toMatch(/^TeamB\/KServe\/models\/churn: invalid prop 'mlflowModelVersion.artifactUri' = "file:\/\/\/tmp\/m"; allowed: .* under the artifacts destination of the MLflow server;/);
});
