import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { DRIFT_METRIC_NAMESPACE, DRIFT_PROJECT_NAMESPACE, KubernetesManifests, MlopsStack, ModelFormat, StackProfile } from '../lib';
import { synthReference } from './support/synth';

const SOURCES = [{ bucketName: 'bucket', prefix: 'mlflow' }];
const MODEL = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://bucket/mlflow/1/models/m-1/artifacts',
  driftCheck: { driftShare: 0.3, features: ['a', 'b', 'c', 'd'] } };

describe('drift checks in the reference stack (one model with a driftCheck)', () => {
  const { stack, template } = synthReference(StackProfile.DEVELOPMENT, { kserve: { models: [MODEL], modelSourceBuckets: SOURCES } });
  const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
  const job = objects.find(o => o.kind === 'CronJob' && o.metadata.name === 'drift-iris');
  const container = job.spec.jobTemplate.spec.template.spec.containers[0];

  test('the CronJob runs the image the stack builds at deploy time, with the model\'s logs, reference and reports', () => {
    expect(container.image).toMatch(/^\$\{Ref:AWS::AccountId\}\.dkr\.ecr\.\$\{Ref:AWS::Region\}\.\$\{Ref:AWS::URLSuffix\}\/cdk-[a-z0-9]+-container-assets-.*:[0-9a-f]{64}$/);
    const arg = (flag: string) => container.args[container.args.indexOf(flag) + 1];
    expect(arg('--payload-logs')).toMatch(/^s3:\/\/\$\{Ref:KServePayloadLogs[0-9A-F]{8}\}\/payload-logs\/models\/iris\/predictor\/predictions\/$/);
    expect(arg('--reference')).toMatch(/^s3:\/\/\$\{Ref:DriftReports[0-9A-F]{8}\}\/references\/iris\.parquet$/);
    expect(arg('--metrics')).toBe('cloudwatch');
    expect(arg('--metric-namespace')).toBe(DRIFT_METRIC_NAMESPACE);
    // The figures carry the stack's name, as its alarms' dimensions do.
    expect(container.args.filter((_: string, i: number) => container.args[i - 1] === '--metric-dimension')).toEqual(['Stack=MlopsStack']);
    expect(arg('--drift-share')).toBe('0.3');
    expect(container.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: '${Ref:AWS::Region}' });
  });

  test('a drift alarm at the model\'s share within one minute, and a missing-data alarm, both to the encrypted topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DriftShare', Namespace: DRIFT_METRIC_NAMESPACE, Dimensions: [{ Name: 'Model', Value: 'iris' }, { Name: 'Stack', Value: 'MlopsStack' }], Statistic: 'Maximum',
      Period: 60, EvaluationPeriods: 1, Threshold: 0.3, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('DriftAlerts') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RowCount', Statistic: 'SampleCount', Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'Model', Value: 'iris' }, { Name: 'Stack', Value: 'MlopsStack' }],
    });
    // What the person paged reads: the model, the threshold it crossed, or that the monitor is silent.
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: DRIFT_METRIC_NAMESPACE } }))
      .map((a: any) => a.Properties.AlarmDescription).sort();
    expect(descriptions).toEqual([
      'iris: no drift check has reported for 10 minutes (the monitor fails or does not run)',
      'iris: the share of drifted features reached 0.3',
    ]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasOutput('*', { Value: { Ref: Match.stringLikeRegexp('DriftAlerts') } });
  });

  test('two stacks in one account and region alarm on their own figures only', () => {
    const other = synthReference(StackProfile.DEVELOPMENT, { kserve: { models: [MODEL], modelSourceBuckets: SOURCES } }, 'MlopsStackDev').template;
    const dims = (t: typeof template) => Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: DRIFT_METRIC_NAMESPACE } }))
      .map((a: any) => a.Properties.Dimensions);
    expect(dims(template).every(d => JSON.stringify(d).includes('"Value":"MlopsStack"'))).toBe(true);
    expect(dims(other).every(d => JSON.stringify(d).includes('"Value":"MlopsStackDev"'))).toBe(true);
    expect(dims(other)).toHaveLength(2);
  });

  test('every key policy statement for an AWS service carries source conditions', () => {
    const statements = Object.values(template.findResources('AWS::KMS::Key')).flatMap((k: any) => k.Properties.KeyPolicy.Statement);
    const forServices = statements.filter((st: any) => st.Principal?.Service);
    expect(forServices.length).toBeGreaterThanOrEqual(2); // CloudWatch for the alert topic, CloudWatch Logs for flow logs
    for (const st of forServices) expect(Object.keys(st.Condition ?? {})).not.toHaveLength(0);
    const cloudwatch = forServices.find((st: any) => st.Principal.Service === 'cloudwatch.amazonaws.com');
    expect(cloudwatch.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
    });
  });

  test('the checks\' role: read the reference and the model\'s logs, write its reports, metrics in one namespace', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'monitoring', ServiceAccount: 'drift-iris' });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('DriftirisIdentity') } });
    const text = JSON.stringify(Object.values(policies));
    for (const part of ['/references/iris.parquet"', '/reports/iris/*', '/payload-logs/models/iris/predictor/predictions/*']) expect(text).toContain(part);
    expect(text).toContain(`"cloudwatch:namespace":"${DRIFT_METRIC_NAMESPACE}"`);
  });

  test('the reports bucket is encrypted, retained and expires reports', () => {
    const [, bucket] = Object.entries(template.findResources('AWS::S3::Bucket')).find(([k]) => k.startsWith('DriftReports'))! as [string, any];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: 90 }));
  });
});

test('a drift check needs the payload logs it reads', () => {
  expect(() => new MlopsStack(new App(), 'S', { kserve: { payloadLogging: false, models: [MODEL], modelSourceBuckets: SOURCES } }))
    .toThrow(/S\/KServe\/models\/iris: invalid prop 'driftCheck' = .*; drift checks read the payload logs: leave payloadLogging on/);
});

test('with evidently.ui, every check adds its run to one workspace, which Evidently\'s UI reads', () => {
  const { stack, template } = synthReference(StackProfile.DEVELOPMENT, { evidently: { ui: true }, kserve: { models: [MODEL], modelSourceBuckets: SOURCES } });
  const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
  const job = objects.find(o => o.kind === 'CronJob' && o.metadata.name === 'drift-iris').spec.jobTemplate.spec.template.spec.containers[0];
  const workspace = job.args[job.args.indexOf('--workspace') + 1];
  expect(workspace).toMatch(/^s3:\/\/\$\{Ref:DriftReports[0-9A-F]{8}\}\/workspace$/);
  const ui = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'evidently-ui').spec.template.spec;
  expect([...ui.containers[0].command, ...ui.containers[0].args]).toEqual(['evidently', 'ui', '--host', '0.0.0.0', '--port', '8000', '--workspace', workspace]);
  expect(ui.containers[0].image).toBe(job.image);
  template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'monitoring', ServiceAccount: 'evidently-ui' });
  const text = (name: string) => JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(name) } })));
  expect(text('DriftUiIdentity')).toContain('/workspace/*');
  expect(text('DriftUiIdentity')).not.toContain('s3:PutObject');
  // The check reads the workspace (Evidently loads every project) but writes only its model's project folder.
  const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('DriftirisIdentity') } }))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((st: any) => JSON.stringify(st.Resource).includes('/workspace'));
  const resources = (action: string) => statements.filter((st: any) => [st.Action].flat().includes(action)).map((st: any) => JSON.stringify(st.Resource));
  expect(resources('s3:GetObject').some((r: string) => r.includes('"/workspace/*"'))).toBe(true);
  // uuid5(DRIFT_PROJECT_NAMESPACE, 'iris'), as Python's uuid module computes it for the drift job.
  expect(resources('s3:PutObject')).toEqual([expect.stringContaining('"/workspace/df64c931-8341-514f-8b23-c64c4e7f6d70/*"')]);
});

test('the drift job derives project IDs from the namespace the grants use', () => {
  const job = fs.readFileSync(path.join(__dirname, '..', 'jobs', 'drift', 'drift_job', 'report.py'), 'utf8');
  expect(job).toContain(`PROJECT_NAMESPACE = uuid.UUID('${DRIFT_PROJECT_NAMESPACE}')`);
});
