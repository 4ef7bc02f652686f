import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StackProfile } from '../lib';
import { PROFILES, synthReference, tempDir } from './support/synth';

/** Every acknowledgement recorded in the construct tree, as "path :: rule id". */
function acknowledgements(app: App): { where: string; id: string; reason: string }[] {
  return app.node.findAll().flatMap(c => c.node.metadata
    .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(m => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ where: c.node.path, id, reason }))));
}

// The acknowledged findings, pinned: a new finding fails synth, and a new or widened
// acknowledgement fails here until it is reviewed and added to this list.
const OURS = [
  'MlopsStack/Mlflow/Database/Resource :: AwsSolutions::AwsSolutions-RDS11',
  'MlopsStack/Mlflow/Database/Secret/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Mlflow/DatabaseServerCredentials/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Mlflow/Identity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<MlflowArtifacts3D6BA9CD.Arn>/mlflow/*]',
  'MlopsStack/DvcRemote/CiPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<DvcRemoteBucket9380F5B1.Arn>/dvc/*]',
  'MlopsStack/Platform/Cluster/ClusternodePoolRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]',
  'MlopsStack/Platform/Cluster/ClusternodePoolRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSWorkerNodePolicy]',
  'MlopsStack/Platform/Cluster/KubectlProvider/Handler/Resource :: AwsSolutions::AwsSolutions-L1',
  'MlopsStack/Platform/KubectlAccess/HandlerRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]',
  'MlopsStack/Platform/KubectlAccess/HandlerRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
  'MlopsStack/Platform/KubectlAccess/HandlerRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
  'MlopsStack/Platform/KubectlAccess/HandlerRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::{"Fn::If":["PlatformKubectlAccessHasEcrPublic158208C9",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]',
  'MlopsStack/Platform/Cluster/KubectlProvider/Provider/framework-onEvent/ServiceRole/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<PlatformClusterKubectlProviderHandler878759C4.Arn>:*]',
  'MlopsStack/Platform/Cluster/KubectlProvider/Provider/framework-onEvent/ServiceRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
  'MlopsStack/Platform/Cluster/KubectlProvider/Provider/framework-onEvent/ServiceRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
  'MlopsStack/Platform/Cluster/Resource :: CloudFormation-Validate::W9009',
  'MlopsStack/Platform/Cluster/Role/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSBlockStoragePolicy]',
  'MlopsStack/Platform/Cluster/Role/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]',
  'MlopsStack/Platform/Cluster/Role/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSComputePolicy]',
  'MlopsStack/Platform/Cluster/Role/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSLoadBalancingPolicy]',
  'MlopsStack/Platform/Cluster/Role/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSNetworkingPolicy]',
  'MlopsStack/Feast/MaterializerIdentity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<FeastDataBA04A5BE.Arn>/offline/*]',
  'MlopsStack/Feast/MaterializerIdentity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<FeastDataBA04A5BE.Arn>/registry/*]',
  'MlopsStack/Feast/ServerIdentity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<FeastDataBA04A5BE.Arn>/registry/*]',
  'MlopsStack/Feast/OnlineStore :: AwsSolutions::AwsSolutions-AEC5',
  'MlopsStack/Feast/OnlineStoreAuthToken/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Feast/OnlineStore :: AwsSolutions::AwsSolutions-AEC6',
  'MlopsStack/Feast/OnlineStoreReaderPassword/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Feast/OnlineStoreWriterPassword/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Dagster/Database/Resource :: AwsSolutions::AwsSolutions-RDS11',
  'MlopsStack/Dagster/Database/Secret/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Dagster/DatabaseServerCredentials/Resource :: AwsSolutions::AwsSolutions-SMG4',
  'MlopsStack/Dagster/RunIdentity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<DagsterComputeLogs43F569E6.Arn>/dagster/compute-logs/*]',
  'MlopsStack/Dagster/WebserverIdentity/Role/DefaultPolicy/Resource :: AwsSolutions::AwsSolutions-IAM5[Resource::<DagsterComputeLogs43F569E6.Arn>/dagster/compute-logs/*]',
];

// The cheap DEVELOPMENT database and online store are single-AZ (the database also deletable);
// PRODUCTION must not need these.
const DEVELOPMENT_ONLY = [
  'MlopsStack/Mlflow/Database/Resource :: AwsSolutions::AwsSolutions-RDS10',
  'MlopsStack/Mlflow/Database/Resource :: AwsSolutions::AwsSolutions-RDS3',
  'MlopsStack/Feast/OnlineStore :: AwsSolutions::AwsSolutions-AEC4',
  'MlopsStack/Dagster/Database/Resource :: AwsSolutions::AwsSolutions-RDS10',
  'MlopsStack/Dagster/Database/Resource :: AwsSolutions::AwsSolutions-RDS3',
  // The NAT instance in place of a gateway (lib/platform/nat.ts).
  'MlopsStack/Platform/Vpc/publicSubnet1/NatInstance/Resource :: AwsSolutions::AwsSolutions-EC28',
  'MlopsStack/Platform/Vpc/publicSubnet1/NatInstance/Resource :: AwsSolutions::AwsSolutions-EC29',
];

// Enhanced Monitoring (PRODUCTION only) runs with the AWS managed role policy RDS documents.
const PRODUCTION_ONLY = [
  'MlopsStack/Mlflow/Database/MonitoringRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
  'MlopsStack/Dagster/Database/MonitoringRole/Resource :: AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
];

// Recorded by aws-cdk-lib itself (stack.availabilityZones, ec2.FlowLog), pinned so an upgrade
// that adds one is reviewed like our own.
const FROM_AWS_CDK_LIB = [
  'MlopsStack :: CloudFormation-Validate::W3010',
  'MlopsStack/Platform/Vpc/FlowLog :: CloudFormation-Validate::F3002',
  'MlopsStack/Platform/Vpc/FlowLog :: CloudFormation-Validate::F3003',
];

describe.each(PROFILES)('cdk-nag AwsSolutions on the %s reference stack', profile => {
  const { app, outdir } = synthReference(profile);

  test('synth passes the AwsSolutions pack with no unacknowledged finding', () => {
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    expect(nag).toBeDefined();
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
  });

  const acks = acknowledgements(app);
  const ours = acks.filter(a => !FROM_AWS_CDK_LIB.includes(`${a.where} :: ${a.id}`));

  test('the acknowledged findings are exactly the reviewed list', () => {
    const expected = [...OURS, ...FROM_AWS_CDK_LIB, ...(profile === StackProfile.DEVELOPMENT ? DEVELOPMENT_ONLY : PRODUCTION_ONLY)];
    expect(acks.map(a => `${a.where} :: ${a.id}`).sort()).toEqual(expected.sort());
  });

  test('each of our acknowledgements sits on one L1 resource, not a scope above it', () => {
    const byPath = new Map(app.node.findAll().map(c => [c.node.path, c]));
    for (const ack of ours) expect({ where: ack.where, l1: byPath.get(ack.where) instanceof CfnResource }).toEqual({ where: ack.where, l1: true });
  });

  test('each of our acknowledgements gives a specific reason', () => {
    for (const ack of ours) expect(ack.reason.length).toBeGreaterThan(60);
  });
});

test('the harness fails synth on an unacknowledged finding', () => {
  const app = new App({ outdir: tempDir('nag-negative') });
  new s3.Bucket(new Stack(app, 'Insecure'), 'NoLogsNoSsl');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
});
