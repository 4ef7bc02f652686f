// A new user's app: the reference stack and a standalone MLflow chart, from the packed library.
import { App } from 'aws-cdk-lib';
import * as cdk8s from 'cdk8s';
import { MlflowServer, MlopsStack, StackProfile } from 'cdk-mlops-stack';

const app = new App({ outdir: 'cdk.out' });
new MlopsStack(app, 'MlopsStack', { profile: StackProfile.DEVELOPMENT });
app.synth();

const charts = new cdk8s.App({ outdir: 'cdk8s.out' });
new MlflowServer(charts, 'mlflow', {
  namespace: 'ml',
  backendStoreSecretName: 'mlflow-db',
  artifactsDestination: 's3://ml-artifacts/mlflow',
});
charts.synth();
