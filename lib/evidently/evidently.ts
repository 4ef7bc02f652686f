import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsLabel, reportPropsAt } from '../../constructs/core/errors';
import { DRIFT_CHECK_DEFAULTS } from '../../constructs/evidently/defaults';
import { DriftMetricsSink, DriftMonitor, ModelDriftOptions } from '../../constructs/evidently/drift-monitor';
import { EvidentlyUi } from '../../constructs/evidently/evidently-ui';
import { createDataBucket, createDataKey, grantObjectRead, grantPrefixAccess, grantStatements, useBucketPolicyForAccessLogs } from '../core/buckets';
import { guardStackAgainstClashes } from '../core/clashes';
import { acknowledgeAt, ANY_RESOURCE_FINDING } from '../core/nag';
import { addComponentNamespaces, ComponentPlatform, resolvePlatform } from '../core/platform';
import { PodIdentityRole } from '../core/pod-identity';
import { PayloadLogs } from '../kserve/payload-logs';

/** What a user chooses about Evidently; the stack supplies the rest (`EvidentlyOnAwsProps`). */
export interface EvidentlyOptions {
  /**
   * Namespace of the checks.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Days reports are kept.
   * @default 90
   */
  readonly reportRetentionDays?: number;
  /**
   * Evidently's UI over a workspace (`workspace/` in the bucket) every check adds its run to.
   * @default false
   */
  readonly ui?: boolean;
}

/** Properties of `EvidentlyOnAws`. */
export interface EvidentlyOnAwsProps extends EvidentlyOptions {
  /** The platform the checks run on (its profile sizes them). */
  readonly platform: ComponentPlatform;
  /**
   * The models to check (`KServeOnAws.driftChecks`). With none, the bucket, key and topic are still
   * made: references written before the first check must survive, and so must the topic's
   * subscriptions when the last check goes.
   */
  readonly models: ModelDriftOptions[];
  /** The payload logs of the models (`KServeOnAws.payloadLogs`). */
  readonly payloadLogs: PayloadLogs;
}

/** The drift job's source (jobs/drift), from lib/evidently/ in the repository or dist/lib/evidently/ in the package. */
const DRIFT_JOB_DIR = [path.join(__dirname, '..', '..', 'jobs', 'drift'), path.join(__dirname, '..', '..', '..', 'jobs', 'drift')]
  .find(dir => fs.existsSync(path.join(dir, 'Dockerfile'))) ?? path.join(__dirname, '..', '..', 'jobs', 'drift');

/** CloudWatch namespace of the drift figures. */
export const DRIFT_METRIC_NAMESPACE = DRIFT_CHECK_DEFAULTS.metricNamespace;
/** The dimension that tells the figures of one stack from another's in the same account and region. */
export const STACK_DIMENSION = 'Stack';
/** Prefix of the Evidently workspace in the drift bucket. */
const WORKSPACE_PREFIX = 'workspace';
/** Where a model's reference dataset goes in the drift bucket (the one key its checks may read). */
function referenceKey(model: string): string {
  return `references/${model}.parquet`;
}
/**
 * The Evidently project ID of a model's checks: a UUID v5 of the model's name, the one the drift
 * job gives the project (`PROJECT_NAMESPACE` in jobs/drift/drift_job/report.py), so the grant can
 * name the project's folder before the first run creates it.
 */
export const DRIFT_PROJECT_NAMESPACE = '6f7c1c55-2e0b-5b8e-9d4e-6d1f3b7a9c21';
function driftProjectId(model: string): string {
  const hash = crypto.createHash('sha1').update(Buffer.from(DRIFT_PROJECT_NAMESPACE.replace(/-/g, ''), 'hex')).update(model, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The drift alarm's period: with one evaluation period, the alerting part of the detection budget. */
const ALARM_PERIOD_SECONDS = DRIFT_CHECK_DEFAULTS.alertingSeconds;

/**
 * Evidently drift checks of served models on EKS: the drift job's image (jobs/drift, built and
 * pushed by `cdk deploy`, so synth stays offline), a reports bucket with `references/<model>.parquet`
 * (put your reference dataset there) and `reports/`, per model a `DriftMonitor` CronJob whose Pod
 * Identity role reads its reference and payload logs, writes its reports and puts figures into one
 * CloudWatch namespace, a drift alarm (DriftShare at or above the model's share) and a missing-data
 * alarm (no RowCount for ten minutes: the monitor is dead), both notifying one encrypted SNS topic.
 */
export class EvidentlyOnAws extends Construct {
  /** Bucket of the references and reports. */
  public readonly bucket: s3.Bucket;
  /** The drift job's image, built only when a check or the UI runs it. */
  public readonly image?: ecrAssets.DockerImageAsset;
  /** Topic the alarms notify; subscribe your on-call to it. */
  public readonly topic: sns.Topic;
  /** The checks, by model. */
  public readonly monitors: { [model: string]: DriftMonitor } = {};
  /** The alarms, by model: `drift` and `missing`. */
  public readonly alarms: { [model: string]: cloudwatch.Alarm[] } = {};
  /** The UI, when `ui` is set. */
  public readonly ui?: EvidentlyUi;
  /** The manifest of the checks' namespace. */
  public readonly namespaceManifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: EvidentlyOnAwsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const namespace = props.namespace ?? DRIFT_CHECK_DEFAULTS.namespace;
    assertDnsLabel(this, 'namespace', namespace);
    const { cluster } = props.platform;
    const { profile, accessLogsBucket } = resolvePlatform(this, props.platform);
    const logs = props.payloadLogs;
    const key = createDataKey(this, 'Key', `Encryption of drift references, reports and alerts ${this.node.path}`);
    this.bucket = createDataBucket(this, 'Reports', {
      encryptionKey: key,
      accessLogsBucket,
      accessLogsPrefix: 'drift-reports/',
      noncurrentVersionExpirationDays: 30,
    });
    this.bucket.addLifecycleRule({ id: 'expire-reports', prefix: 'reports/', expiration: Duration.days(props.reportRetentionDays ?? DRIFT_CHECK_DEFAULTS.reportRetentionDays) });
    const image = props.models.length > 0 || props.ui ? new ecrAssets.DockerImageAsset(this, 'Image', { directory: DRIFT_JOB_DIR }) : undefined;
    this.image = image;
    // The stack's alert topic: drift, and (MlopsStack) the health of its databases and cache.
    this.topic = new sns.Topic(this, 'Alerts', { displayName: 'MLOps alerts', masterKey: key, enforceSSL: true });
    // CloudWatch publishes to the encrypted topic only if it may use the key; the source conditions
    // keep it to alarms of this account and region (CloudWatch sets both keys on these KMS calls,
    // unlike EventBridge), so no other account's alarm can have the service use the key.
    const { account, region, partition, stackName } = Stack.of(this);
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
      },
    }));
    new CfnOutput(this, 'AlertTopicArn', { value: this.topic.topicArn, description: 'SNS topic of the drift and missing-data alarms' });

    // No secrets reach the checks: their namespace is not served by the secret store.
    this.namespaceManifest = addComponentNamespaces(props.platform, `${id}Namespace`, { evidently: namespace }, { secrets: false });
    const workspaceUri = props.ui ? `s3://${this.bucket.bucketName}/${WORKSPACE_PREFIX}` : undefined;
    const reports = { bucket: this.bucket, encryptionKey: key };
    if (workspaceUri) {
      this.ui = reportPropsAt(this, () => new EvidentlyUi(new cdk8s.App(), 'EvidentlyUi', { namespace, image: image!.imageUri, workspaceUri, awsRegion: region }));
      const uiIdentity = new PodIdentityRole(this, 'UiIdentity', {
        cluster, namespace, serviceAccount: this.ui.serviceAccountName, description: 'Evidently UI: reads the drift workspace',
      });
      grantPrefixAccess(uiIdentity, { ...reports, prefix: WORKSPACE_PREFIX, write: false },
        'The UI reads every project and run of the drift workspace; the wildcard is that prefix');
      const uiManifest = cluster.addCdk8sChart(`${id}Ui`, this.ui);
      uiManifest.node.addDependency(this.namespaceManifest, uiIdentity.association);
    }
    for (const [i, model] of props.models.entries()) {
      const monitor = reportPropsAt(this, () => new DriftMonitor(new cdk8s.App(), `Drift${model.model}`, {
        namespace,
        image: image!.imageUri,
        model: model.model,
        referenceUri: `s3://${this.bucket.bucketName}/${referenceKey(model.model)}`,
        payloadLogsUri: logs.modelUri(model.model),
        reportsUri: `s3://${this.bucket.bucketName}/reports`,
        features: model.features,
        driftShare: model.driftShare,
        windowMinutes: model.windowMinutes,
        metrics: DriftMetricsSink.CLOUDWATCH,
        metricNamespace: DRIFT_METRIC_NAMESPACE,
        metricDimensions: { [STACK_DIMENSION]: stackName },
        alertingSeconds: ALARM_PERIOD_SECONDS,
        workspaceUri,
        awsRegion: region,
        profile,
      }), `models[${i}].`);
      this.monitors[model.model] = monitor;
      const identity = new PodIdentityRole(this, `${model.model}Identity`, {
        cluster, namespace, serviceAccount: monitor.serviceAccountName,
        description: `Drift checks of ${model.model}: read its reference and payload logs, write its reports, put drift figures`,
      });
      // The one object the check reads its reference from, by the key its --reference names.
      grantObjectRead(identity, { ...reports, key: referenceKey(model.model) });
      grantPrefixAccess(identity, { ...reports, prefix: `reports/${model.model}`, write: true },
        'A drift check writes one report object per run under its model\'s report prefix; the wildcard is that prefix');
      logs.grantRead(identity, model.model);
      if (workspaceUri) {
        // Evidently's workspace loads every project when it opens, so a check reads the whole
        // workspace; it writes only its model's project folder, whose ID the job derives from the
        // model's name (jobs/drift/drift_job/report.py).
        grantPrefixAccess(identity, { ...reports, prefix: WORKSPACE_PREFIX, write: false },
          'Evidently reads every project of the workspace when it opens it; the wildcard is the workspace prefix');
        grantPrefixAccess(identity, { ...reports, prefix: `${WORKSPACE_PREFIX}/${driftProjectId(model.model)}`, write: true },
          'A drift check writes its run under its own model\'s project folder; the wildcard is that folder');
      }
      grantStatements(identity, [new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'], resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': DRIFT_METRIC_NAMESPACE } },
      })]);
      acknowledgeAt(identity.role, 'DefaultPolicy/Resource',
        'PutMetricData has no resource type; the condition limits it to the drift namespace', ANY_RESOURCE_FINDING);
      // One manifest per model: a change to one model's checks replaces nothing of another's.
      const manifest = cluster.addCdk8sChart(`${id}${model.model}Checks`, monitor);
      manifest.node.addDependency(this.namespaceManifest, identity.association);

      // The stack's name beside the model's: two stacks in one account and region (a dev and a prod
      // deployment) each alarm on their own figures, and a dead monitor is not hidden by another's.
      const dimensionsMap = { Model: model.model, [STACK_DIMENSION]: stackName };
      const drift = new cloudwatch.Alarm(this, `${model.model}DriftAlarm`, {
        alarmDescription: `${model.model}: the share of drifted features reached ${monitor.driftShare}`,
        metric: new cloudwatch.Metric({ namespace: DRIFT_METRIC_NAMESPACE, metricName: 'DriftShare', dimensionsMap, statistic: 'Maximum',
          period: Duration.seconds(ALARM_PERIOD_SECONDS) }),
        threshold: monitor.driftShare,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // A minute without a check is not drift; the missing-data alarm covers a dead monitor.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const missing = new cloudwatch.Alarm(this, `${model.model}MissingAlarm`, {
        alarmDescription: `${model.model}: no drift check has reported for 10 minutes (the monitor fails or does not run)`,
        metric: new cloudwatch.Metric({ namespace: DRIFT_METRIC_NAMESPACE, metricName: 'RowCount', dimensionsMap, statistic: 'SampleCount',
          period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      for (const alarm of [drift, missing]) {
        alarm.addAlarmAction(new actions.SnsAction(this.topic));
        alarm.addOkAction(new actions.SnsAction(this.topic));
      }
      this.alarms[model.model] = [drift, missing];
    }
  }
}
