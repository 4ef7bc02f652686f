// Endpoints of the emulators the contract tests start on 127.0.0.1; test/contract/conftest.py
// reads the same values from here (one source). Ports are fixed to keep the rendered manifests
// deterministic; the tests fail fast if one is taken.
export const CONTRACT = {
  s3EndpointUrl: 'http://127.0.0.1:45123',
  awsRegion: 'us-east-1',
  postgresPort: 45432,
  mlflow: {
    namespace: 'mlops',
    secretName: 'mlflow-db',
    authSecretName: 'mlflow-auth',
    artifactsDestination: 's3://contract-artifacts/mlflow',
  },
};
