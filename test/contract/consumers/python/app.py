"""A new user's app in Python: the reference stack and a standalone MLflow chart, from the wheel."""
import aws_cdk as cdk
import cdk8s

from cdk_mlops_stack import MlflowServer, MlopsStack, StackProfile

app = cdk.App(outdir='cdk.out')
MlopsStack(app, 'MlopsStack', profile=StackProfile.DEVELOPMENT)
app.synth()

charts = cdk8s.App(outdir='cdk8s.out')
MlflowServer(charts, 'mlflow', namespace='ml', backend_store_secret_name='mlflow-db',
             artifacts_destination='s3://ml-artifacts/mlflow')
charts.synth()
