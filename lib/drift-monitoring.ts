import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsLabel } from '../constructs/core/errors';
import { ComponentNamespace } from '../constructs/core/namespace';
import { StackProfile } from '../constructs/core/profile';
import { DriftMetricsSink, DriftMonitor } from '../constructs/evidently/drift-monitor';
import { EvidentlyUi } from '../constructs/evidently/evidently-ui';
import { guardStackAgainstClashes } from './clashes';
import {
  createAccessLogsBucket, createDataBucket, createDataKey, grantStatements, prefixAccessStatements, useBucketPolicyForAccessLogs,
} from './data-bucket';
import { acknowledgeAt, awsSolutions, logicalIdAt } from './nag';
import { PodIdentityRole } from './pod-identity';

/** How one model's drift is checked. */
export interface DriftCheckOptions {
  /**
   * Feature names in the order the requests carry them.
   * @default - the reference dataset's columns
   */
  readonly features?: string[];
  /**
   * Share of drifted columns at which the model counts as drifted (and the alarm fires).
   * @default 0.5
   */
  readonly driftShare?: number;
  /**
   * Minutes of payload logs each check reads.
   * @default 15
   */
  readonly windowMinutes?: number;
}

/** Drift checks of one served model. */
export interface ModelDriftOptions extends DriftCheckOptions {
  /** Name of the InferenceService. */
  readonly model: string;
}

/** Properties of `DriftMonitoring`. */
export interface DriftMonitoringProps {
  /** The cluster. */
  readonly cluster: eks.ICluster;
  /** The models to check. */
  readonly models: ModelDriftOptions[];
  /** Bucket of the payload logs. */
  readonly payloadLogBucket: s3.IBucket;
  /** Its key. */
  readonly payloadLogKey: kms.IKey;
  /** `s3://` URL the loggers write under (`<bucket>/<prefix>`). */
  readonly payloadLogUrl: string;
  /** Key prefix of the loggers' URL in the bucket. */
  readonly payloadLogPrefix: string;
  /** Namespace of the models. */
  readonly modelNamespace: string;
  /** Folder the loggers write below `<namespace>/<model>/predictor/`. */
  readonly payloadLogPath: string;
  /**
   * Namespace of the checks.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Sizing.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * Bucket for the access logs of the reports bucket.
   * @default - a new access-log bucket
   */
  readonly accessLogsBucket?: s3.IBucket;
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

/** The drift job's source (jobs/drift), from lib/ in the repository or dist/lib/ in the package. */
const DRIFT_JOB_DIR = [path.join(__dirname, '..', 'jobs', 'drift'), path.join(__dirname, '..', '..', 'jobs', 'drift')]
  .find(dir => fs.existsSync(path.join(dir, 'Dockerfile'))) ?? path.join(__dirname, '..', 'jobs', 'drift');

/** CloudWatch namespace of the drift figures. */
export const DRIFT_METRIC_NAMESPACE = 'MLOps/Drift';
/** Prefix of the Evidently workspace in the drift bucket. */
const WORKSPACE_PREFIX = 'workspace';
/** The drift alarm's period: with one evaluation period, the alerting part of the detection budget. */
const ALARM_PERIOD_SECONDS = 60;

/**
 * Evidently drift checks of served models on EKS: the drift job's image (jobs/drift, built and
 * pushed by `cdk deploy`, so synth stays offline), a reports bucket with `references/<model>.parquet`
 * (put your reference dataset there) and `reports/`, per model a `DriftMonitor` CronJob whose Pod
 * Identity role reads its reference and payload logs, writes its reports and puts figures into one
 * CloudWatch namespace, a drift alarm (DriftShare at or above the model's share) and a missing-data
 * alarm (no RowCount for ten minutes: the monitor is dead), both notifying one encrypted SNS topic.
 */
export class DriftMonitoring extends Construct {
  /** Bucket of the references and reports. */
  public readonly bucket: s3.Bucket;
  /** The drift job's image. */
  public readonly image: ecrAssets.DockerImageAsset;
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

  constructor(scope: Construct, id: string, props: DriftMonitoringProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const namespace = props.namespace ?? 'monitoring';
    assertDnsLabel(this, 'namespace', namespace);
    const key = createDataKey(this, 'Key', `Encryption of drift references, reports and alerts ${this.node.path}`);
    this.bucket = createDataBucket(this, 'Reports', {
      encryptionKey: key,
      accessLogsBucket: props.accessLogsBucket ?? createAccessLogsBucket(this, 'AccessLogs', 365),
      accessLogsPrefix: 'drift-reports/',
      noncurrentVersionExpirationDays: 30,
    });
    this.bucket.addLifecycleRule({ id: 'expire-reports', prefix: 'reports/', expiration: Duration.days(props.reportRetentionDays ?? 90) });
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', { directory: DRIFT_JOB_DIR });
    this.topic = new sns.Topic(this, 'Alerts', { displayName: 'Model drift', masterKey: key, enforceSSL: true });
    // CloudWatch publishes to the encrypted topic only if it may use the key.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    new CfnOutput(this, 'AlertTopicArn', { value: this.topic.topicArn, description: 'SNS topic of the drift and missing-data alarms' });

    const nsChart = new cdk8s.Chart(new cdk8s.App(), 'Monitoring');
    new ComponentNamespace(nsChart, 'Namespace', namespace);
    this.namespaceManifest = props.cluster.addCdk8sChart(`${id}Namespace`, nsChart);
    const region = Stack.of(this).region;
    const workspaceUri = props.ui ? `s3://${this.bucket.bucketName}/${WORKSPACE_PREFIX}` : undefined;
    const workspaceFinding = awsSolutions(`IAM5[Resource::<${logicalIdAt(this.bucket, 'Resource')}.Arn>/${WORKSPACE_PREFIX}/*]`);
    if (workspaceUri) {
      this.ui = new EvidentlyUi(new cdk8s.App(), 'EvidentlyUi', { namespace, image: this.image.imageUri, workspaceUri, awsRegion: region });
      const uiIdentity = new PodIdentityRole(this, 'UiIdentity', {
        cluster: props.cluster, namespace, serviceAccount: this.ui.serviceAccountName, description: 'Evidently UI: reads the drift workspace',
      });
      grantStatements(uiIdentity, prefixAccessStatements({ bucket: this.bucket, encryptionKey: key, prefix: WORKSPACE_PREFIX, write: false }));
      acknowledgeAt(uiIdentity.role, 'DefaultPolicy/Resource', 'The UI reads every project and run of the drift workspace; the wildcard is that prefix', workspaceFinding);
      const uiManifest = props.cluster.addCdk8sChart(`${id}Ui`, this.ui);
      uiManifest.node.addDependency(this.namespaceManifest, uiIdentity.association);
    }
    for (const model of props.models) {
      const logs = `${props.payloadLogPrefix}/${props.modelNamespace}/${model.model}/predictor/${props.payloadLogPath}`;
      const monitor = new DriftMonitor(new cdk8s.App(), `Drift${model.model}`, {
        namespace,
        image: this.image.imageUri,
        model: model.model,
        referenceUri: `s3://${this.bucket.bucketName}/references/${model.model}.parquet`,
        payloadLogsUri: `${props.payloadLogUrl}/${props.modelNamespace}/${model.model}/predictor/${props.payloadLogPath}/`,
        reportsUri: `s3://${this.bucket.bucketName}/reports`,
        features: model.features,
        driftShare: model.driftShare,
        windowMinutes: model.windowMinutes,
        metrics: DriftMetricsSink.CLOUDWATCH,
        metricNamespace: DRIFT_METRIC_NAMESPACE,
        alertingSeconds: ALARM_PERIOD_SECONDS,
        workspaceUri,
        awsRegion: region,
        profile: props.profile,
      });
      this.monitors[model.model] = monitor;
      const identity = new PodIdentityRole(this, `${model.model}Identity`, {
        cluster: props.cluster, namespace, serviceAccount: monitor.serviceAccountName,
        description: `Drift checks of ${model.model}: read its reference and payload logs, write its reports, put drift figures`,
      });
      grantStatements(identity, [
        ...prefixAccessStatements({ bucket: this.bucket, encryptionKey: key, prefix: `references/${model.model}`, write: false }),
        ...prefixAccessStatements({ bucket: this.bucket, encryptionKey: key, prefix: `reports/${model.model}`, write: true }),
        ...prefixAccessStatements({ bucket: props.payloadLogBucket, encryptionKey: props.payloadLogKey, prefix: logs, write: false }),
        // Project IDs are generated, so a check may write anywhere in the shared workspace.
        ...(workspaceUri ? prefixAccessStatements({ bucket: this.bucket, encryptionKey: key, prefix: WORKSPACE_PREFIX, write: true }) : []),
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'], resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': DRIFT_METRIC_NAMESPACE } },
        }),
      ]);
      acknowledgeAt(identity.role, 'DefaultPolicy/Resource',
        'Drift checks read the objects under their model\'s reference and payload-log prefixes, write under its report prefix, and put metrics only into the drift namespace (PutMetricData has no resource type)',
        awsSolutions(`IAM5[Resource::<${logicalIdAt(this.bucket, 'Resource')}.Arn>/references/${model.model}/*]`),
        awsSolutions(`IAM5[Resource::<${logicalIdAt(this.bucket, 'Resource')}.Arn>/reports/${model.model}/*]`),
        awsSolutions(`IAM5[Resource::<${logicalIdAt(props.payloadLogBucket, 'Resource')}.Arn>/${logs}/*]`),
        awsSolutions('IAM5[Resource::*]'), ...(workspaceUri ? [workspaceFinding] : []));
      // One manifest per model: a change to one model's checks replaces nothing of another's.
      const manifest = props.cluster.addCdk8sChart(`${id}${model.model}Checks`, monitor);
      manifest.node.addDependency(this.namespaceManifest, identity.association);

      const dimensionsMap = { Model: model.model };
      const drift = new cloudwatch.Alarm(this, `${model.model}DriftAlarm`, {
        alarmDescription: `${model.model}: the share of drifted features reached ${model.driftShare ?? 0.5}`,
        metric: new cloudwatch.Metric({ namespace: DRIFT_METRIC_NAMESPACE, metricName: 'DriftShare', dimensionsMap, statistic: 'Maximum',
          period: Duration.seconds(ALARM_PERIOD_SECONDS) }),
        threshold: model.driftShare ?? 0.5,
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
