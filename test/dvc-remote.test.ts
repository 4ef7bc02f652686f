import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DvcRemote, DvcRemoteEncryption } from '../lib';

function build(props: ConstructorParameters<typeof DvcRemote>[2] = {}) {
  const stack = new Stack(new App(), 'Test');
  const remote = new DvcRemote(stack, 'Remote', props);
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
  remote.grantRead(reader);
  remote.grantReadWrite(writer);
  return { stack, remote, template: Template.fromStack(stack) };
}

/** The statements of the inline policy of the role with the given logical-id prefix. */
function statementsOf(template: Template, rolePrefix: string): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const policy = Object.values(policies).find((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith(rolePrefix)));
  return (policy as any).Properties.PolicyDocument.Statement;
}

const actionsOf = (statements: any[]) => statements.flatMap(s => [s.Action].flat()).sort();

describe('DvcRemote with defaults', () => {
  const { template, remote } = build();

  test('the bucket is versioned, KMS-encrypted with a bucket key, private, logged and retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
        }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'dvc-remote/' },
      }),
    });
  });

  test('noncurrent versions expire after 90 days and incomplete uploads are aborted', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: Match.arrayWith([
        Match.objectLike({ Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
        Match.objectLike({ Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
      ]) },
    });
  });

  test('the remote bucket\'s own policy denies requests without TLS and TLS below 1.2', () => {
    const bucketId = Stack.of(remote).getLogicalId(remote.bucket.node.defaultChild as any);
    const denyOnBucket = (condition: object) => Match.objectLike({
      Effect: 'Deny', Action: 's3:*', Condition: condition,
      Resource: Match.arrayWith([{ 'Fn::GetAtt': [bucketId, 'Arn'] }]),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([
        denyOnBucket({ Bool: { 'aws:SecureTransport': 'false' } }),
        denyOnBucket({ NumericLessThan: { 's3:TlsVersion': 1.2 } }),
      ]) },
    });
  });

  test('access logs go to their own retained bucket and expire after a year', () => {
    const logsId = Stack.of(remote).getLogicalId(remote.accessLogsBucket.node.defaultChild as any);
    const logs = template.toJSON().Resources[logsId];
    expect(logs.DeletionPolicy).toBe('Retain');
    expect(logs.Properties.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 365, Status: 'Enabled' })]);
  });

  test('the key rotates and is retained', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
  });

  test('grantRead gives list, get and KMS decrypt only', () => {
    expect(actionsOf(statementsOf(template, 'Reader'))).toEqual(['kms:Decrypt', 's3:GetObject', 's3:ListBucket']);
  });

  test('grantReadWrite adds put, delete and data-key generation, object actions on the prefix only', () => {
    const statements = statementsOf(template, 'Writer');
    expect(actionsOf(statements)).toEqual(
      ['kms:Decrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const objects = statements.find(s => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(objects.Resource)).toMatch(/\/dvc\/\*"/);
    const kms = statements.find(s => [s.Action].flat().includes('kms:Decrypt'));
    expect(kms.Condition.StringEquals['kms:ViaService']).toBeDefined();
  });

  test('the CI managed policy carries the read-write statements', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([
        Match.objectLike({ Action: Match.arrayWith(['s3:PutObject', 's3:DeleteObject']) }),
      ]) },
    });
  });

  test('outputs the dvc commands for the remote', () => {
    const outputs = template.findOutputs('*');
    const add = Object.entries(outputs).find(([k]) => k.startsWith('RemoteRemoteAddCommand'))![1];
    const modify = Object.entries(outputs).find(([k]) => k.startsWith('RemoteRemoteModifyCommand'))![1];
    expect(JSON.stringify(add.Value)).toMatch(/dvc remote add -d storage s3:\/\/.*\/dvc"/);
    expect(JSON.stringify(modify.Value)).toMatch(/dvc remote modify storage region /);
    expect(JSON.stringify(modify.Value)).not.toMatch(/version_aware/);
    expect(remote.versionAware).toBe(false);
  });
});

describe('DvcRemote with cloud versioning', () => {
  const { template } = build({ versionAware: true, remoteName: 'datasets' });

  test('keeps every noncurrent version: they are the dataset history', () => {
    const rules = (Object.values(template.findResources('AWS::S3::Bucket', {
      Properties: { VersioningConfiguration: { Status: 'Enabled' } },
    }))[0] as any).Properties.LifecycleConfiguration.Rules;
    expect(rules.some((r: any) => r.NoncurrentVersionExpiration)).toBe(false);
  });

  test('reads object versions and tells DVC to use them', () => {
    expect(actionsOf(statementsOf(template, 'Reader'))).toEqual(
      ['kms:Decrypt', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListBucketVersions']);
    const modify = Object.entries(template.findOutputs('*')).find(([k]) => k.startsWith('RemoteRemoteModifyCommand'))![1];
    expect(JSON.stringify(modify.Value)).toMatch(/dvc remote modify datasets version_aware true/);
  });
});

test('DvcRemote with SSE-S3 needs no KMS key or permissions', () => {
  const { template } = build({ encryption: DvcRemoteEncryption.S3_MANAGED });
  template.resourceCountIs('AWS::KMS::Key', 0);
  expect(actionsOf(statementsOf(template, 'Writer'))).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
});
