import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertCronSchedule } from '../core/cron';
import { assertDnsLabel, InvalidPropError, isS3Uri, isUnresolved } from '../core/errors';
import { standardLabels } from '../core/labels';
import { resolveProfile, StackProfile } from '../core/profile';
import { restrictedPodSpec, serviceAccount } from '../core/server';
import { NON_ROOT_ID, resources, restrictedContainerSecurityContext } from '../core/workload';
import { DRIFT_CHECK_DEFAULTS } from './defaults';

/** Where a drift check's figures go. */
export enum DriftMetricsSink {
  /** CloudWatch metrics (DriftShare, DriftedColumns, RowCount; dimension Model). */
  CLOUDWATCH = 'cloudwatch',
  /** One JSON line per run on stdout (`{"metric": "drift", ...}`), for a log pipeline to turn into metrics. */
  LOG = 'log',
}

/** How one model's drift is checked: what a served model declares, and what `DriftMonitor` runs. */
export interface DriftCheckOptions {
  /**
   * Feature names in the order the requests carry them.
   * @default - the reference dataset's columns
   */
  readonly features?: string[];
  /**
   * How far back each check reads the payload logs, in minutes.
   * @default 15
   */
  readonly windowMinutes?: number;
  /**
   * Share of drifted columns (0-1, exclusive of 0) at which the dataset counts as drifted, and the
   * drift alarm's threshold on the stack.
   * @default 0.5
   */
  readonly driftShare?: number;
}

/** Drift checks of one served model. */
export interface ModelDriftOptions extends DriftCheckOptions {
  /** Name of the InferenceService. */
  readonly model: string;
}

/** Properties of `DriftMonitor`. */
export interface DriftMonitorProps extends DriftCheckOptions {
  /** The drift job's image (jobs/drift/Dockerfile, built and pushed by you on clusters other than the stack's). */
  readonly image: string;
  /** Name of the monitored InferenceService (the CronJob is `drift-<model>`, the metric dimension `Model`). */
  readonly model: string;
  /** `s3://` URI of the reference dataset (parquet, one column per feature). */
  readonly referenceUri: string;
  /** `s3://` prefix of the model's payload logs: `<logger url>/<namespace>/<model>/predictor/<path>/`. */
  readonly payloadLogsUri: string;
  /** `s3://` prefix the reports go under (`<prefix>/<model>/YYYY/MM/DD/`). */
  readonly reportsUri: string;
  /**
   * Namespace of the CronJob.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * When the check runs (five-field cron, UTC).
   * @default '*\/2 * * * *' (so a shift is alarmed within five minutes: see `detectionBudgetSeconds`)
   */
  readonly schedule?: string;
  /**
   * The longest a check may run before it is stopped, in seconds.
   * @default 90
   */
  readonly deadlineSeconds?: number;
  /**
   * Where the figures go.
   * @default DriftMetricsSink.LOG
   */
  readonly metrics?: DriftMetricsSink;
  /**
   * CloudWatch namespace of the figures.
   * @default 'MLOps/Drift'
   */
  readonly metricNamespace?: string;
  /**
   * Dimensions the figures carry beside `Model`, e.g. `{ Stack: 'prod-mlops' }`. CloudWatch keeps
   * each set of dimensions a metric of its own, so the alarms of two deployments in one account and
   * region see only their own figures. (`EvidentlyOnAws` sets `Stack` to the stack's name.)
   * @default - `Model` only
   */
  readonly metricDimensions?: { [name: string]: string };
  /**
   * Seconds the alerting on the figures adds before a drifted check is noticed (an alarm's period
   * times its evaluation periods); 0 when nothing alerts.
   * @default 60
   */
  readonly alertingSeconds?: number;
  /**
   * Longest time from a shift in traffic to its alert that the schedule, the deadline and the
   * alerting may add up to.
   * @default 300
   */
  readonly detectionBudgetSeconds?: number;
  /**
   * Accept a schedule, deadline and alerting that exceed `detectionBudgetSeconds`.
   * @default false
   */
  readonly allowSlowDetection?: boolean;
  /**
   * AWS region of the buckets and CloudWatch.
   * @default - the pod's environment (EKS Pod Identity sets it)
   */
  readonly awsRegion?: string;
  /**
   * S3-compatible endpoint instead of AWS S3.
   * @default - AWS S3
   */
  readonly s3EndpointUrl?: string;
  /**
   * Evidently workspace (`s3://<bucket>/<prefix>`) each run is added to, for `EvidentlyUi`.
   * @default - none
   */
  readonly workspaceUri?: string;
  /**
   * Annotations of the ServiceAccount (e.g. an IRSA role).
   * @default - none
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
  /**
   * Sizing.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
}

/**
 * Scheduled Evidently drift checks of one KServe model's payload logs: a CronJob (one run at a
 * time, a deadline, short histories, Pod Security "restricted", no API token) running the drift
 * job with the model's reference, logs, reports and metric settings, and its ServiceAccount.
 */
export class DriftMonitor extends Chart {
  /** The CronJob. */
  public readonly cronJob: k8s.KubeCronJob;
  /** The ServiceAccount the checks run as (give it read access to the reference and logs, write to the reports). */
  public readonly serviceAccountName: string;
  /** Worst-case seconds from a shift in traffic to its alert: schedule interval + deadline + alerting. */
  public readonly detectionSeconds: number;
  /** The share of drifted columns at which the model counts as drifted (the resolved `driftShare`). */
  public readonly driftShare: number;
  /** Minutes of payload logs each check reads (the resolved `windowMinutes`). */
  public readonly windowMinutes: number;

  constructor(scope: Construct, id: string, props: DriftMonitorProps) {
    const namespace = props.namespace ?? 'monitoring';
    super(scope, id, { namespace });
    assertDnsLabel(this, 'namespace', namespace);
    assertDnsLabel(this, 'model', props.model);
    for (const [prop, uri] of [['referenceUri', props.referenceUri], ['payloadLogsUri', props.payloadLogsUri], ['reportsUri', props.reportsUri],
      ...(props.workspaceUri !== undefined ? [['workspaceUri', props.workspaceUri]] : [])]) {
      if (!isS3Uri(uri)) throw new InvalidPropError(this, prop, uri, 'allowed: an s3://<bucket>[/<key>] URI');
    }
    const schedule = props.schedule ?? DRIFT_CHECK_DEFAULTS.schedule;
    assertCronSchedule(this, 'schedule', schedule);
    const { windowMinutes, driftShare } = resolveDriftCheck(this, props);
    const deadlineSeconds = props.deadlineSeconds ?? DRIFT_CHECK_DEFAULTS.deadlineSeconds;
    if (!Number.isInteger(deadlineSeconds) || deadlineSeconds <= 0) {
      throw new InvalidPropError(this, 'deadlineSeconds', deadlineSeconds, 'allowed: a whole number of seconds greater than 0');
    }
    this.windowMinutes = windowMinutes;
    this.driftShare = driftShare;
    const dimensions = Object.entries(props.metricDimensions ?? {}).sort(([a], [b]) => a.localeCompare(b));
    for (const [dim, value] of dimensions) assertMetricDimension(this, dim, value);
    if (dimensions.length > 29) {
      throw new InvalidPropError(this, 'metricDimensions', `${dimensions.length} dimensions`, 'allowed: at most 29 beside Model (CloudWatch takes 30)');
    }
    const interval = scheduleIntervalSeconds(schedule);
    const alertingSeconds = props.alertingSeconds ?? DRIFT_CHECK_DEFAULTS.alertingSeconds;
    this.detectionSeconds = (interval ?? Infinity) + deadlineSeconds + alertingSeconds;
    const budget = props.detectionBudgetSeconds ?? DRIFT_CHECK_DEFAULTS.detectionBudgetSeconds;
    if (this.detectionSeconds > budget && !props.allowSlowDetection) {
      throw new InvalidPropError(this, 'schedule', schedule,
        `the schedule interval (${interval ?? 'irregular'} s) + deadlineSeconds (${deadlineSeconds}) + alertingSeconds (${alertingSeconds}) `
        + `exceed the detection budget of ${budget} s; allowed: a regular "*/N * * * *" schedule that fits, or allowSlowDetection: true`);
    }

    const name = `drift-${props.model}`;
    const labels = standardLabels('evidently', name);
    this.serviceAccountName = name;
    serviceAccount(this, 'ServiceAccount', name, labels, props.serviceAccountAnnotations);
    const sized = DRIFT_CHECK_DEFAULTS.resources[resolveProfile(props.profile)];
    const metrics = props.metrics ?? DriftMetricsSink.LOG;
    const env = awsEnv(props.awsRegion, props.s3EndpointUrl);
    const container: k8s.Container = {
      name: 'drift',
      image: props.image,
      args: [
        '--model', props.model, '--reference', props.referenceUri, '--payload-logs', props.payloadLogsUri, '--reports', props.reportsUri,
        '--window-minutes', String(windowMinutes), '--drift-share', String(driftShare),
        ...(props.features?.length ? ['--features', props.features.join(',')] : []),
        '--metrics', metrics, '--metric-namespace', props.metricNamespace ?? DRIFT_CHECK_DEFAULTS.metricNamespace,
        ...dimensions.flatMap(([dim, value]) => ['--metric-dimension', `${dim}=${value}`]),
        ...(props.workspaceUri ? ['--workspace', props.workspaceUri] : []),
      ],
      env,
      resources: resources(sized.cpu, sized.memory, sized.memoryLimit),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    };
    this.cronJob = new k8s.KubeCronJob(this, 'CronJob', {
      metadata: { name, labels },
      spec: {
        schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        // A check that could not start within one interval is superseded by the next.
        startingDeadlineSeconds: Math.min(interval ?? 300, 300),
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            // A failed check is reported by the missing figures; retrying would only delay the next.
            backoffLimit: 0,
            activeDeadlineSeconds: deadlineSeconds,
            ttlSecondsAfterFinished: 3600,
            template: {
              metadata: { labels },
              spec: restrictedPodSpec(name, {
                restartPolicy: 'Never',
                containers: [container],
                volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }],
              }, NON_ROOT_ID),
            },
          },
        },
      },
    });
    guardAgainstClashes(this);
  }
}

/**
 * The window and share of a drift check, defaults applied; throws for a bad one. Exported so a
 * construct that takes drift checks as options (the stack's models) refuses them where they are written.
 */
export function resolveDriftCheck(scope: IConstruct | string, check: DriftCheckOptions): { windowMinutes: number; driftShare: number } {
  const windowMinutes = check.windowMinutes ?? DRIFT_CHECK_DEFAULTS.windowMinutes;
  if (!Number.isInteger(windowMinutes) || windowMinutes <= 0) {
    throw new InvalidPropError(scope, 'windowMinutes', windowMinutes, 'allowed: a whole number of minutes greater than 0');
  }
  const driftShare = check.driftShare ?? DRIFT_CHECK_DEFAULTS.driftShare;
  if (!(driftShare > 0 && driftShare <= 1)) {
    throw new InvalidPropError(scope, 'driftShare', driftShare, 'allowed: a share greater than 0 and at most 1');
  }
  return { windowMinutes, driftShare };
}

/** The seconds between runs of a schedule that runs at a fixed interval within the hour, else undefined. */
export function scheduleIntervalSeconds(schedule: string): number | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 || fields.slice(1).some(f => f !== '*')) return undefined;
  if (fields[0] === '*') return 60;
  const step = /^\*\/(\d+)$/.exec(fields[0]);
  return step && 60 % Number(step[1]) === 0 ? Number(step[1]) * 60 : undefined;
}

/** Region and S3 endpoint for boto3 and s3fs in the drift image. */
export function awsEnv(region?: string, s3EndpointUrl?: string): k8s.EnvVar[] {
  return [
    ...(region ? [{ name: 'AWS_DEFAULT_REGION', value: region }, { name: 'AWS_REGION', value: region }] : []),
    ...(s3EndpointUrl ? [{ name: 'AWS_ENDPOINT_URL_S3', value: s3EndpointUrl }] : []),
  ];
}

/** A CloudWatch dimension beside `Model`: a name of letters, digits, `_.-`, a value of 1-1024 characters on one line. */
function assertMetricDimension(scope: IConstruct, name: string, value: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,254}$/.test(name) || name === 'Model') {
    throw new InvalidPropError(scope, `metricDimensions.${name}`, name,
      'allowed: a name of 1-255 letters, digits, "_", "." and "-", starting with a letter, other than Model (the job sets it)');
  }
  if (!isUnresolved(value) && (value.length === 0 || value.length > 1024 || /[\r\n]/.test(value))) {
    throw new InvalidPropError(scope, `metricDimensions.${name}`, value, 'allowed: a value of 1-1024 characters on one line');
  }
}
