import * as cdk8s from 'cdk8s';
import { DriftMetricsSink, DriftMonitor, DriftMonitorProps, scheduleIntervalSeconds, StackProfile } from '../lib';
import { podSpecsOf, restrictedViolations } from './support/pod-security';

const REQUIRED: DriftMonitorProps = {
  image: 'registry.example.com/drift:1', model: 'iris', referenceUri: 's3://data/reference/iris.parquet',
  payloadLogsUri: 's3://payloads/payload-logs/models/iris/predictor/predictions/', reportsUri: 's3://reports/drift',
};
const monitor = (props: Partial<DriftMonitorProps> = {}) => new DriftMonitor(new cdk8s.App(), 'Drift', { ...REQUIRED, ...props });
const cronJob = (m: DriftMonitor) => m.toJson().find((o: any) => o.kind === 'CronJob');

describe('DriftMonitor with only the required props', () => {
  const m = monitor();
  const job = cronJob(m);
  const pod = job.spec.jobTemplate.spec.template.spec;

  test('runs the drift job with the model\'s reference, logs and reports, every two minutes, one run at a time', () => {
    expect(job.metadata).toMatchObject({ name: 'drift-iris', namespace: 'monitoring' });
    expect(job.spec).toMatchObject({ schedule: '*/2 * * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 120,
      successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 3 });
    expect(job.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 90 });
    expect(pod.containers[0].args).toEqual(['--model', 'iris', '--reference', REQUIRED.referenceUri, '--payload-logs', REQUIRED.payloadLogsUri,
      '--reports', REQUIRED.reportsUri, '--window-minutes', '15', '--drift-share', '0.5', '--metrics', 'log', '--metric-namespace', 'MLOps/Drift']);
    expect(pod.containers[0].image).toBe(REQUIRED.image);
  });

  test('meets Pod Security "restricted", mounts no token, writes only to /tmp', () => {
    expect(podSpecsOf(job).flatMap(restrictedViolations)).toEqual([]);
    expect(pod).toMatchObject({ serviceAccountName: 'drift-iris', automountServiceAccountToken: false, restartPolicy: 'Never' });
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  test('DEVELOPMENT requests less than its limit; PRODUCTION reserves 2 GiB', () => {
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } });
    const prod = cronJob(monitor({ profile: StackProfile.PRODUCTION })).spec.jobTemplate.spec.template.spec.containers[0];
    expect(prod.resources).toEqual({ requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } });
  });

  test('the detection budget: two-minute interval + 90 s deadline + one 60 s alarm period = 270 s', () => {
    expect(m.detectionSeconds).toBe(270);
  });
});

test('CloudWatch figures, features, region and an S3-compatible endpoint', () => {
  const c = cronJob(monitor({ metrics: DriftMetricsSink.CLOUDWATCH, features: ['a', 'b'], awsRegion: 'eu-west-1', s3EndpointUrl: 'http://minio:9000' }))
    .spec.jobTemplate.spec.template.spec.containers[0];
  expect(c.args).toEqual(expect.arrayContaining(['--metrics', 'cloudwatch', '--features', 'a,b']));
  expect(c.env).toEqual([{ name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' }, { name: 'AWS_REGION', value: 'eu-west-1' },
    { name: 'AWS_ENDPOINT_URL_S3', value: 'http://minio:9000' }]);
});

test('interval of a schedule', () => {
  expect([scheduleIntervalSeconds('* * * * *'), scheduleIntervalSeconds('*/3 * * * *'), scheduleIntervalSeconds('*/7 * * * *'),
    scheduleIntervalSeconds('0 * * * *'), scheduleIntervalSeconds('*/5 9-17 * * *')]).toEqual([60, 180, undefined, undefined, undefined]);
});

describe('bad input fails at synth', () => {
  test.each([
    ['a bad cron', { schedule: '*/2 * * *' }, /^Drift: invalid prop 'schedule' = "\*\/2 \* \* \*"; allowed: five fields/],
    ['a window of 0 minutes', { windowMinutes: 0 }, /^Drift: invalid prop 'windowMinutes' = 0; allowed: a whole number of minutes greater than 0/],
    ['a drift share above 1', { driftShare: 1.5 }, /^Drift: invalid prop 'driftShare' = 1.5; allowed: a share greater than 0 and at most 1/],
    ['a drift share of 0', { driftShare: 0 }, /invalid prop 'driftShare' = 0/],
    ['a schedule that misses the five-minute budget', { schedule: '*/5 * * * *' },
      /^Drift: invalid prop 'schedule' = "\*\/5 \* \* \* \*"; the schedule interval \(300 s\) \+ deadlineSeconds \(90\) \+ alertingSeconds \(60\) exceed the detection budget of 300 s/],
    ['an irregular schedule', { schedule: '0 9 * * *' }, /the schedule interval \(irregular s\)/],
    ['slow alerting', { alertingSeconds: 600 }, /alertingSeconds \(600\) exceed the detection budget/],
    ['a reference that is not on S3', { referenceUri: 'gs://data/ref.parquet' }, /^Drift: invalid prop 'referenceUri' = "gs:\/\/data\/ref.parquet"; allowed: an s3:\/\//],
    ['payload logs that are not on S3', { payloadLogsUri: '/var/logs' }, /invalid prop 'payloadLogsUri'/],
    ['a model name that is not a DNS label', { model: 'Iris_V2' }, /invalid prop 'model' = "Iris_V2"/],
    ['a dimension named Model', { metricDimensions: { Model: 'x' } },
      /^Drift: invalid prop 'metricDimensions.Model' = "Model"; allowed: a name of 1-255 letters, digits, "_", "." and "-", starting with a letter, other than Model/],
    ['a dimension name with a space', { metricDimensions: { 'my stack': 'x' } }, /invalid prop 'metricDimensions.my stack'/],
    ['an empty dimension value', { metricDimensions: { Stack: '' } }, /^Drift: invalid prop 'metricDimensions.Stack' = ""; allowed: a value of 1-1024 characters on one line/],
    ['thirty dimensions', { metricDimensions: Object.fromEntries([...Array(30).keys()].map(i => [`D${i}`, 'x'])) },
      /^Drift: invalid prop 'metricDimensions' = "30 dimensions"; allowed: at most 29 beside Model/],
  ])('%s', (_name, props, message) => {
    expect(() => monitor(props as Partial<DriftMonitorProps>)).toThrow(message);
  });

  test('extra dimensions go to the job in name order, one flag each', () => {
    const args = cronJob(monitor({ metricDimensions: { Stack: 'prod-mlops', Env: 'prod' } })).spec.jobTemplate.spec.template.spec.containers[0].args;
    expect(args.slice(args.indexOf('--metric-namespace') + 2)).toEqual(['--metric-dimension', 'Env=prod', '--metric-dimension', 'Stack=prod-mlops']);
  });

  test('the budget can be waived explicitly', () => {
    expect(monitor({ schedule: '*/15 * * * *', allowSlowDetection: true }).detectionSeconds).toBe(1050);
  });
});
