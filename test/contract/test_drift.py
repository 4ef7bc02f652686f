"""Drift end to end: KServe's agent logs the traffic of the reference stack's model, and the drift
job runs with the command line and env of the synthesized DriftMonitor CronJob (drift.json).

The model server, the agent and their substitutions are test_kserve.py's: the pod KServe's real
controller made of the stack's InferenceService. The job is the code of
the image (jobs/drift) in its own pins (.venv-drift); where EKS would give Pod Identity credentials
and reach AWS, moto's key pair and endpoint (S3 and CloudWatch) stand in. The synthesized alarms'
thresholds are checked against the figures the job published.
"""
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time

import pandas
import pytest

import k8s
import kserve_pods as kp
import pods
from conftest import report
from test_kserve import _run_agent, agent_binary, emulator_env, manifest, model_server, trained  # noqa: F401 (fixtures)

ROOT = kp.ROOT
DRIFT_PYTHON = os.path.join(ROOT, '.venv-drift', 'bin', 'python')
IRIS = '''
import sys
from sklearn.datasets import load_iris
frame = load_iris(as_frame=True).frame.drop(columns="target")
frame.columns = sys.argv[2].split(",")
frame.to_parquet(sys.argv[1])
'''


@pytest.fixture(scope='module')
def drift():
    data = k8s.load_objects('drift.json')
    [cron_job] = data['cronJobs']
    return {'cronJob': cron_job, 'container': cron_job['spec']['jobTemplate']['spec']['template']['spec']['containers'][0],
            'alarms': {a['MetricName']: a for a in data['alarms']}, 'ui': data['ui']}


def arg(container, flag):
    return container['args'][container['args'].index(flag) + 1]


def s3_parts(uri):
    bucket, _, key = uri[len('s3://'):].partition('/')
    return bucket, key


@pytest.fixture(scope='module')
def clients(services):
    return {'s3': services['s3'], 'cloudwatch': services['identities'].client('cloudwatch')}


@pytest.fixture(scope='module')
def reference(drift, clients, services):
    """The iris measurements as the model's reference dataset, where the CronJob reads it."""
    container = drift['container']
    features = arg(container, '--features').split(',')
    path = os.path.join(os.environ['TMPDIR'], 'iris-reference.parquet')
    subprocess.run([DRIFT_PYTHON, '-c', IRIS, path, ','.join(features)], check=True, env=kp.clean_env({}))
    bucket, key = s3_parts(arg(container, '--reference'))
    clients['s3'].create_bucket(Bucket=bucket)
    clients['s3'].upload_file(path, bucket, key)
    payload_bucket, _ = s3_parts(arg(container, '--payload-logs'))
    if payload_bucket not in [b['Name'] for b in clients['s3'].list_buckets()['Buckets']]:
        clients['s3'].create_bucket(Bucket=payload_bucket)
    return pandas.read_parquet(path)


def run_job(cron_job, endpoints, args=None, aws=None):
    """The CronJob's container: the image's entrypoint (python -m drift_job) with its args and env,
    as its own role (`aws` replaces that only for measurements of another model's data)."""
    spec = pods.pod_spec(cron_job)
    [container] = spec['containers']
    env = kp.clean_env({**{v['name']: v['value'] for v in container.get('env', [])}, **(aws or pods.aws_env(spec)),
                        'AWS_ENDPOINT_URL': endpoints['s3EndpointUrl'], 'PYTHONPATH': os.path.join(ROOT, 'jobs', 'drift'),
                        'TMPDIR': os.environ['TMPDIR']})
    argv = [DRIFT_PYTHON, '-m', 'drift_job', *(args or container['args'])]
    result = subprocess.run([sys.executable, '-c', pods._MEASURE, *argv], env=env, capture_output=True, text=True, timeout=600)
    stats = json.loads(result.stderr.strip().splitlines()[-1])
    return result.returncode, result.stdout + result.stderr, stats['seconds'], stats['peak_kib'] / 1024


def latest(cloudwatch, alarm, since):
    """The newest figure of the metric the synthesized `alarm` watches (its namespace, name and
    dimensions, the stack's name among them): what the job published is what the alarm sees."""
    points = cloudwatch.get_metric_statistics(Namespace=alarm['Namespace'], MetricName=alarm['MetricName'], Dimensions=alarm['Dimensions'],
                                              StartTime=since - dt.timedelta(minutes=1), EndTime=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1),
                                              Period=60, Statistics=['Maximum'])['Datapoints']
    return max(points, key=lambda p: p['Timestamp'])['Maximum'] if points else None


def breaches(alarm, value):
    compare = {'GreaterThanOrEqualToThreshold': value >= alarm['Threshold'], 'GreaterThanThreshold': value > alarm['Threshold'],
               'LessThanThreshold': value < alarm['Threshold'], 'LessThanOrEqualToThreshold': value <= alarm['Threshold']}
    return compare[alarm['ComparisonOperator']]


def test_traffic_like_the_reference_then_shifted_traffic_trips_the_alarm(
        agent_binary, manifest, model_server, emulator_env, drift, reference, clients, endpoints):  # noqa: F811
    container, model = drift['container'], arg(drift['container'], '--model')
    alarm = drift['alarms']['DriftShare']
    # The interval the controller gave the pod's agent: the detection budget below counts it.
    batch_interval = kp.flag_value(kp.container(manifest['pod'], 'agent')['args'], '--log-batch-interval')
    sample = reference.sample(300, replace=True, random_state=1)
    like = [{'instances': [row]} for row in sample.to_numpy().tolist()]
    started = dt.datetime.now(dt.timezone.utc)
    # Traffic like the reference measures nothing, so it need not wait for the pod's flush interval.
    _run_agent(manifest['pod'], model_server, emulator_env, like, '2s')
    code, log, seconds, _ = run_job(drift['cronJob'], endpoints)
    assert code == 0, log[-3000:]
    assert 'no drift' in log, log[-3000:]
    assert {d['Name'] for d in alarm['Dimensions']} == {'Model', 'Stack'}
    share = latest(clients['cloudwatch'], alarm, started)
    assert share is not None and not breaches(alarm, share), (share, log[-2000:])

    shifted = sample.copy()
    shifted[shifted.columns[2:]] += 3.0
    heavy = [{'instances': [row]} for row in pandas.concat([shifted] * 3).to_numpy().tolist()]
    sent = time.monotonic()
    shifted_at = dt.datetime.now(dt.timezone.utc)
    _run_agent(manifest['pod'], model_server, emulator_env, heavy, batch_interval)
    code, log, seconds, peak = run_job(drift['cronJob'], endpoints)
    traffic_to_metric = time.monotonic() - sent
    assert code == 0, log[-3000:]
    assert 'DRIFT DETECTED' in log, log[-3000:]
    share = latest(clients['cloudwatch'], alarm, shifted_at)
    assert breaches(alarm, share), f'DriftShare {share} does not cross the synthesized alarm ({alarm["ComparisonOperator"]} {alarm["Threshold"]})'
    bucket, prefix = s3_parts(arg(container, '--reports'))
    keys = [o['Key'] for o in clients['s3'].list_objects_v2(Bucket=bucket, Prefix=f'{prefix}/{model}/').get('Contents', [])]
    assert {k.rsplit('-', 1)[-1] for k in keys} >= {'drift.html', 'drift.json'}
    assert all(re.match(rf'{prefix}/{model}/\d{{4}}/\d\d/\d\d/\d{{6}}Z-drift\.(html|json)$', k) for k in keys), keys

    screenshot(clients['s3'], bucket, sorted(k for k in keys if k.endswith('.html'))[-1])

    # The detection budget as synthesized: the logger's batch interval, the schedule's interval, the
    # measured run and the alarm's evaluation, worst case, within five minutes.
    schedule = drift['cronJob']['spec']['schedule']
    interval = 60 * int(re.fullmatch(r'\*/(\d+) \* \* \* \*', schedule).group(1))
    alerting = alarm['Period'] * alarm['EvaluationPeriods']
    batch = int(batch_interval.rstrip('s'))
    budget = batch + interval + seconds + alerting
    deadline = drift['cronJob']['spec']['jobTemplate']['spec']['activeDeadlineSeconds']
    assert seconds < deadline
    assert budget <= 300, budget
    report(f'drift: detection budget {batch} s batch + {interval} s schedule + {seconds:.1f} s run + {alerting} s alarm = {budget:.0f} s '
           f'(<= 300); shifted traffic to metric here {traffic_to_metric:.0f} s (the agent\'s {batch_interval} flush included); '
           f'run peak {peak:.0f} MiB')


def test_evidently_ui_serves_the_runs_the_checks_added_to_the_workspace(drift, endpoints, clients):
    """Evidently's UI, with the synthesized Deployment's command, args and env, over the workspace
    the CronJob's runs (the test above) were added to on the emulated S3 (through s3fs)."""
    [container] = drift['ui']['spec']['template']['spec']['containers']
    workspace = container['args'][container['args'].index('--workspace') + 1]
    assert workspace == arg(drift['container'], '--workspace')
    port = pods.free_port()
    args = [a if a != str(container['ports'][0]['containerPort']) else str(port) for a in container['args']]
    args = ['127.0.0.1' if a == '0.0.0.0' else a for a in args]
    env = kp.clean_env({**{v['name']: v['value'] for v in container['env']}, **pods.aws_env(pods.pod_spec(drift['ui'])),
                        'AWS_ENDPOINT_URL': endpoints['s3EndpointUrl'], 'TMPDIR': os.environ['TMPDIR'], 'HOME': os.environ['TMPDIR']})
    ui = subprocess.Popen([os.path.join(ROOT, '.venv-drift', 'bin', container['command'][0]), *container['command'][1:], *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import requests
        probe = container['readinessProbe']['httpGet']['path']
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f'http://127.0.0.1:{port}{probe}', timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert ui.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        projects = requests.get(f'http://127.0.0.1:{port}/api/projects', timeout=30).json()
        [project] = [p for p in projects if p['name'] == arg(drift['container'], '--model')]
        runs = requests.get(f'http://127.0.0.1:{port}/api/projects/{project["id"]}/snapshots', timeout=30).json()
        assert len(runs) >= 2, runs
        rss = int(next(line.split()[1] for line in open(f'/proc/{ui.pid}/status') if line.startswith('VmRSS:'))) / 1024
        report(f'Evidently UI over the S3 workspace: project {project["name"]} with {len(runs)} runs; {rss:.0f} MiB resident')
    finally:
        os.killpg(ui.pid, 15)
        ui.wait(20)


def screenshot(s3, bucket, key):
    """The drifted run's HTML report as headless Chromium (Debian's) renders it; the README's picture
    is this file (CONTRACT_SCREENSHOT=docs/drift-report.png npm run test:contract -- -k test_drift)."""
    folder = os.environ['TMPDIR']
    html, png = os.path.join(folder, 'drift-report.html'), os.path.join(folder, 'drift-report.png')
    s3.download_file(bucket, key, html)
    result = subprocess.run(['chromium', '--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1400,1000',
                             '--virtual-time-budget=15000', f'--screenshot={png}', f'file://{html}'], capture_output=True, text=True, timeout=120,
                            env={'PATH': '/usr/bin:/bin', 'HOME': folder})
    assert result.returncode == 0, result.stderr[-2000:]
    with open(png, 'rb') as f:
        data = f.read()
    assert data.startswith(b'\x89PNG') and len(data) > 20_000, 'the report rendered blank'
    if os.environ.get('CONTRACT_SCREENSHOT'):
        with open(os.path.join(ROOT, os.environ['CONTRACT_SCREENSHOT']), 'wb') as f:
            f.write(data)


def test_the_jobs_own_defaults_are_the_constructs():
    """Run by hand without flags, the job checks the window, share and namespace a DriftMonitor renders by default."""
    default_args = k8s.load_objects('drift.json')['defaultArgs']
    probe = ('import json; from drift_job.__main__ import parser; '
             'print(json.dumps({a.option_strings[0]: a.default for a in parser()._actions if a.option_strings}))')
    env = kp.clean_env({'PYTHONPATH': os.path.join(ROOT, 'jobs', 'drift')})
    job = json.loads(subprocess.run([DRIFT_PYTHON, '-c', probe], check=True, capture_output=True, text=True, env=env).stdout)
    for flag in ('--window-minutes', '--drift-share', '--metric-namespace'):
        assert str(job[flag]) == arg({'args': default_args}, flag), flag


def test_a_failed_run_exits_non_zero_with_one_clear_line(drift, endpoints, reference, clients):
    """A missing reference is NoSuchKey (the role may list the bucket, so S3 answers 404, not 403);
    another model's reference is refused by the check's own role."""
    container = drift['container']
    bucket, key = s3_parts(arg(container, '--reference'))
    saved = clients['s3'].get_object(Bucket=bucket, Key=key)['Body'].read()
    clients['s3'].delete_object(Bucket=bucket, Key=key)
    try:
        code, log, _, _ = run_job(drift['cronJob'], endpoints)
    finally:
        clients['s3'].put_object(Bucket=bucket, Key=key, Body=saved)
    assert code == 1
    assert 'drift check failed for iris: NoSuchKey' in log, log[-2000:]

    clients['s3'].put_object(Bucket=bucket, Key='references/other.parquet', Body=saved)
    args = list(container['args'])
    args[args.index('--reference') + 1] = f's3://{bucket}/references/other.parquet'
    code, log, _, _ = run_job(drift['cronJob'], endpoints, args)
    assert code == 1
    assert 'drift check failed for iris: AccessDenied' in log, log[-2000:]


@pytest.mark.skipif(not os.environ.get('CONTRACT_BENCH'), reason='a measurement, not a contract: npm run bench:drift')
def test_100k_reference_rows_against_10k_current_rows(drift, clients, endpoints, reference, services):
    """The job's cost at the size the issue names: 100,000 reference rows x 20 columns against
    10,000 current rows, logged as the agent batches them (JSON arrays of 50 records)."""
    import base64
    import numpy
    rng = numpy.random.default_rng(3)
    columns = [f'x{i}' for i in range(20)]
    ref = pandas.DataFrame(rng.normal(size=(100_000, 20)), columns=columns)
    buffer = io.BytesIO()
    ref.to_parquet(buffer)
    clients['s3'].put_object(Bucket='contract-drift', Key='references/large.parquet', Body=buffer.getvalue())
    current = rng.normal(size=(10_000, 20)).tolist()
    now = dt.datetime.now(dt.timezone.utc).isoformat().replace('+00:00', 'Z')
    for start in range(0, len(current), 50):
        records = [{'bytes': base64.b64encode(json.dumps({'instances': [row]}).encode()).decode(), 'reqType': 'org.kubeflow.serving.inference.request',
                    'id': f'r{start + i}', 'occurrenceTime': now} for i, row in enumerate(current[start:start + 50])]
        clients['s3'].put_object(Bucket='contract-payloads', Key=f'large/r{start}-request.json', Body=json.dumps(records).encode())
    container = drift['container']
    args = list(container['args'])
    for flag, value in [('--reference', 's3://contract-drift/references/large.parquet'), ('--payload-logs', 's3://contract-payloads/large/'),
                        ('--features', ','.join(columns)), ('--model', 'large')]:
        args[args.index(flag) + 1] = value
    # The data of a model 'large' the iris check's role may not read: a cost measurement, not an IAM one.
    code, log, seconds, peak = run_job(drift['cronJob'], endpoints, args, aws=services['identities'].admin)
    assert code == 0, log[-3000:]
    assert 'over 10000 rows' in log, log[-2000:]
    limit = container['resources']['limits']['memory']
    report(f'drift job, 100,000 reference rows x 20 columns vs 10,000 current rows (200 JSON objects): {seconds:.1f} s wall, '
           f'{peak:.0f} MiB peak RSS (limit {limit})')
    limit_mib = int(limit[:-2]) * (1024 if limit.endswith('Gi') else 1)
    assert peak < limit_mib, f'{peak:.0f} MiB peak is above the {limit} limit'
