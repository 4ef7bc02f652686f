// Endpoints of the emulators the contract tests start on 127.0.0.1; test/contract/conftest.py
// reads the same values from the rendered endpoints.json (one source). scripts/contract/run.sh
// picks the ports free at run time, so two runs on one machine never collide.
function port(variable: string): number {
  const value = Number(process.env[variable]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${variable} must name a free port (scripts/contract/run.sh sets it)`);
  return value;
}

export const CONTRACT = {
  s3EndpointUrl: `http://127.0.0.1:${port('CONTRACT_S3_PORT')}`,
  awsRegion: 'us-east-1',
  postgresPort: port('CONTRACT_POSTGRES_PORT'),
  redisPort: port('CONTRACT_REDIS_PORT'),
  mlflow: {
    namespace: 'mlflow',
    secretName: 'mlflow-db',
    adminSecretName: 'mlflow-db-admin',
    authSecretName: 'mlflow-auth',
    artifactsDestination: 's3://contract-artifacts/mlflow',
  },
  feast: {
    namespace: 'feast',
    bucket: 'contract-feast',
    passwordSecretName: 'feast-online-store',
    configMapName: 'feast-config',
    // The in-cluster Redis of the standalone chart, and the Secret with its password.
    redisSecretName: 'redis-auth',
    redisEndpoint: 'redis.feast.svc:6379',
    standaloneRegistry: 's3://contract-feast/standalone/registry.pb',
  },
  kserve: {
    model: 'iris',
    // Where a user's model sits: a model source the stack is given by bucket name and prefix.
    storageUri: 's3://contract-artifacts/mlflow/1/models/m-iris/artifacts',
    sourceBucket: 'contract-artifacts',
    sourcePrefix: 'mlflow/1/models',
    payloadBucket: 'contract-payloads',
  },
  drift: {
    reportsBucket: 'contract-drift',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    driftShare: 0.5,
  },
  dagster: {
    namespace: 'dagster',
    bucket: 'contract-dagster',
    secretName: 'dagster-db',
    adminSecretName: 'dagster-db-admin',
    location: {
      name: 'demo', image: 'contract/dagster-demo:1', module: 'contract_dagster_demo',
      env: { CONTRACT_STAGE: 'contract' }, envSecretNames: ['dagster-demo-env'],
    },
  },
};
