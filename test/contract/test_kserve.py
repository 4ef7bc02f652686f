"""KServe contract: the real KServe v0.20.0 code runs the pods its real controller makes of the
synthesized InferenceServices.

- The reference stack's model (kserve.json, AWS names replaced by the local ones) is applied to the
  API server where KServe's manager runs (kserve_controller.py, the `kserve` fixture); every
  container below runs with the args and env of the pod it made (kserve_pods.py).
- KServe's storage initializer downloads the model, KServe's sklearn runtime (its v0.20.0 source from
  the Go module proxy; the runtime is not on PyPI) serves it, and the predictions over v1 and v2
  equal the model's own.
- The payload logger: KServe's agent (built from the Go module proxy by setup.sh) fronts the model;
  the records land in the payload bucket under the stack's prefix. Without the region annotation of
  the settings ServiceAccount, the pod the controller makes has no region and the agent stores nothing.
- A model logged to the real MLflow and registered there is declared with MlflowInferenceService
  (scripts/contract/mlflow-isvc.ts), applied to the same controller, downloaded from the MLflow
  artifact bucket by its pod's storage initializer and served over v2; its annotations lead back to its run.
"""
import base64
import json
import os
import statistics
import subprocess
import tempfile
import time

import pytest
import requests

import k8s
import kserve_pods as kp
import pods
from conftest import report
from mlflow_server import pod_spec_of, rds_secrets, run_server

ROOT = kp.ROOT
REQUESTS = 1000

TRAIN = '''
import json, sys
import joblib
import numpy
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000).fit(X, y)
joblib.dump(model, sys.argv[1])
rng = numpy.random.default_rng(7)
rows = X[rng.integers(0, len(X), 20)]
json.dump({"rows": rows.tolist(), "predictions": model.predict(rows).tolist()}, open(sys.argv[2], "w"))
'''

LOG_TO_MLFLOW = '''
import json, sys
import mlflow, mlflow.sklearn
import numpy
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
mlflow.set_tracking_uri(sys.argv[1])
X, y = load_iris(return_X_y=True)
with mlflow.start_run() as run:
    # skops, MLflow's default format for sklearn, loads a linear model without extra trusted types.
    model = LogisticRegression(C=0.5, max_iter=1000).fit(X, y)
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris-linear", input_example=X[:2])
client = MlflowClient()
version = client.get_model_version("iris-linear", info.registered_model_version)
# What a user has is the name and version: its source names the logged model (models:/<model id>),
# whose artifact location is where the files are.
assert version.source.startswith("models:/"), version.source
logged = mlflow.get_logged_model(version.source[len("models:/"):])
rows = X[::15]
json.dump({"name": version.name, "version": version.version, "runId": version.run_id, "source": version.source,
           "artifactUri": logged.artifact_location, "rows": rows.tolist(), "predictions": model.predict(rows).tolist()},
          open(sys.argv[2], "w"))
'''


@pytest.fixture(scope='module')
def manifest(kserve):
    """The stack's InferenceService and the pod KServe's controller made of it."""
    isvc = kp.named(kserve['models'], 'InferenceService', 'iris')
    meta = isvc['metadata']
    [pod] = kserve['cluster'].wait_for_pods(meta['namespace'], meta['name'], 1)
    return {'isvc': isvc, 'pod': pod, 'cluster': kserve['cluster']}


@pytest.fixture(scope='module')
def emulator_env(endpoints):
    """Where the pod would reach AWS S3: moto, path-style (its endpoint is an IP address)."""
    return {'AWS_ENDPOINT_URL': endpoints['s3EndpointUrl'], 'S3_USER_VIRTUAL_BUCKET': 'false'}


@pytest.fixture(scope='module')
def trained(services, manifest):
    """A tiny sklearn model, uploaded where the synthesized InferenceService looks for it."""
    folder = tempfile.mkdtemp(prefix='contract-kserve-')
    model_file, expected = os.path.join(folder, 'model.joblib'), os.path.join(folder, 'expected.json')
    subprocess.run([kp.KSERVE_PYTHON, '-c', TRAIN, model_file, expected], check=True, env=kp.clean_env({}))
    uri = manifest['isvc']['spec']['predictor']['model']['storageUri']
    bucket, _, prefix = uri[len('s3://'):].partition('/')
    services['s3'].upload_file(model_file, bucket, f'{prefix}/model.joblib')
    return json.load(open(expected))


@pytest.fixture(scope='module')
def model_server(manifest, trained, emulator_env):
    """The predictor pod: storage initializer, then the sklearn runtime until its model is ready."""
    pod, name = manifest['pod'], manifest['isvc']['metadata']['name']
    models = tempfile.mkdtemp(prefix='contract-models-')
    started = time.monotonic()
    code, log, seconds = kp.run_storage_initializer(pod, models, emulator_env)
    assert code == 0, log
    assert os.listdir(models) == ['model.joblib']
    port, grpc = pods.free_port(), pods.free_port()
    src = kp.kserve_source()
    out = tempfile.NamedTemporaryFile(prefix='contract-sklearnserver-', suffix='.log', delete=False)
    proc = subprocess.Popen(kp.runtime_argv(pod, models, port, grpc), env=kp.runtime_env(pod, src),
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f'http://127.0.0.1:{port}'
        wait_until_ready(proc, out.name, lambda: requests.get(f'{url}/v1/models/{name}', timeout=1).json().get('ready'))
        report(f'KServe sklearn model: download {seconds:.1f} s, download-to-ready {time.monotonic() - started:.1f} s')
        yield {'url': url, 'port': port, 'pid': proc.pid, 'log': out.name}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)


def wait_until_ready(proc, log, ready, timeout=120):
    """Polls `ready()` until it is true; fails with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except (requests.ConnectionError, ValueError):
            pass
        assert proc.poll() is None, open(log).read()[-3000:] if log else 'the process exited'
        assert time.monotonic() < deadline, open(log).read()[-3000:] if log else 'not ready in time'
        time.sleep(0.1)


def test_the_storage_initializer_downloads_with_the_synthesized_uri_and_env(model_server):
    assert model_server['url']


def test_a_wrong_storage_uri_fails_the_download(manifest, trained, emulator_env):
    uri = manifest['isvc']['spec']['predictor']['model']['storageUri'].replace('/models/', '/modles/')
    code, log, _ = kp.run_storage_initializer(manifest['pod'], tempfile.mkdtemp(), emulator_env, storage_uri=uri)
    assert code != 0
    assert 'No model found' in log or 'Failed to fetch model' in log, log[-2000:]


def test_the_storage_container_is_what_carries_the_region(manifest):
    env = kp.env_of(kp.container(manifest['pod'], 'storage-initializer'))
    assert env['AWS_DEFAULT_REGION'] == env['AWS_REGION'] == k8s.load_endpoints()['awsRegion']


def _latency(session, method, url, body, n=REQUESTS):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = session.request(method, url, json=body, timeout=10)
        times.append((time.perf_counter() - t) * 1000)
        response.raise_for_status()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def test_predictions_over_v1_and_v2_are_the_models_own(model_server, trained, manifest):
    name = manifest['isvc']['metadata']['name']
    rows, expected = trained['rows'], trained['predictions']
    v1 = requests.post(f'{model_server["url"]}/v1/models/{name}:predict', json={'instances': rows}, timeout=10)
    assert v1.json() == {'predictions': expected}
    v2_body = {'inputs': [{'name': 'input-0', 'shape': [len(rows), 4], 'datatype': 'FP64', 'data': [x for r in rows for x in r]}]}
    v2 = requests.post(f'{model_server["url"]}/v2/models/{name}/infer', json=v2_body, timeout=10).json()
    assert v2['model_name'] == name
    assert v2['outputs'][0]['data'] == expected
    session = requests.Session()
    p50, p99 = _latency(session, 'POST', f'{model_server["url"]}/v1/models/{name}:predict', {'instances': rows[:1]})
    report(f'KServe sklearn v1 predict, 1 row, {REQUESTS} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms')
    one = {'inputs': [{'name': 'input-0', 'shape': [1, 4], 'datatype': 'FP64', 'data': rows[0]}]}
    p50, p99 = _latency(session, 'POST', f'{model_server["url"]}/v2/models/{name}/infer', one)
    report(f'KServe sklearn v2 infer, 1 row, {REQUESTS} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms')
    rss = int(next(line.split()[1] for line in open(f'/proc/{model_server["pid"]}/status') if line.startswith('VmRSS:'))) / 1024
    report(f'KServe sklearn runtime resident memory after the requests: {rss:.0f} MiB')
    requests_mib = int(manifest['isvc']['spec']['predictor']['model']['resources']['requests']['memory'].rstrip('Mi'))
    assert rss < requests_mib, f'the runtime holds {rss:.0f} MiB, more than its {requests_mib} MiB request'


def _payload_objects(s3, bucket, prefix):
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o['Key'] for o in listing.get('Contents', [])]


@pytest.fixture(scope='module')
def agent_binary():
    if not os.path.exists(kp.AGENT_BIN):
        pytest.fail(f'{kp.AGENT_BIN} is missing: scripts/contract/setup.sh builds it')
    return kp.AGENT_BIN


def _run_agent(pod, model_server, emulator_env, requests_to_send, batch):
    """The pod's agent in front of the local model server; `batch` shortens its flush interval."""
    agent_port, marshaller_port = pods.free_port(), pods.free_port()
    argv = kp.agent_argv(pod, model_server['port'], agent_port, marshaller_port, batch_interval=batch)
    env = kp.agent_env(pod, model_server['port'], emulator_env)
    log = tempfile.NamedTemporaryFile(prefix='contract-agent-', suffix='.log', delete=False)
    with kp.one_agent_at_a_time():
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            isvc = kp.flag_value(argv, '--inference-service')
            url = f'http://127.0.0.1:{agent_port}/v1/models/{isvc}:predict'
            wait_until_ready(proc, log.name, lambda: requests.get(f'http://127.0.0.1:{agent_port}/', timeout=1,
                                                                  headers={'User-Agent': 'kube-probe/1.35'}) is not None, timeout=30)
            session = requests.Session()
            for body in requests_to_send:
                assert session.post(url, json=body, timeout=10).status_code == 200
            # Past one batch interval the agent writes what it holds.
            time.sleep(float(batch.rstrip('s')) + 3)
            return env, open(log.name).read()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
            proc.wait(40)
            os.unlink(log.name)


def test_the_payload_logger_writes_every_prediction_under_the_stacks_prefix(agent_binary, manifest, model_server, trained, services, emulator_env):
    isvc = manifest['isvc']
    logger = isvc['spec']['predictor']['logger']
    bucket, _, url_prefix = logger['url'][len('s3://'):].partition('/')
    if bucket not in [b['Name'] for b in services['s3'].list_buckets()['Buckets']]:
        services['s3'].create_bucket(Bucket=bucket)
    prefix = f'{url_prefix}/{isvc["metadata"]["namespace"]}/{isvc["metadata"]["name"]}/predictor/{logger["storage"]["path"]}/'
    # Other tests (test_drift.py) log the same model's traffic: only this run's objects count.
    before = set(_payload_objects(services['s3'], bucket, prefix))
    bodies = [{'instances': [row]} for row in trained['rows']]
    env, log = _run_agent(manifest['pod'], model_server, emulator_env, bodies, '2s')
    assert env['AWS_DEFAULT_REGION'] == k8s.load_endpoints()['awsRegion'], 'the region comes from the settings ServiceAccount'
    keys = [k for k in _payload_objects(services['s3'], bucket, prefix) if k not in before]
    assert keys, log[-3000:]
    records = []
    for key in keys:
        body = json.loads(services['s3'].get_object(Bucket=bucket, Key=key)['Body'].read())
        records += body if isinstance(body, list) else [body]
    requests_logged = [json.loads(base64.b64decode(r['bytes'])) for r in records if r['reqType'].endswith('request')]
    responses = [json.loads(base64.b64decode(r['bytes'])) for r in records if r['reqType'].endswith('response')]
    assert sorted(map(json.dumps, requests_logged)) == sorted(map(json.dumps, bodies))
    assert sorted(p for r in responses for p in r['predictions']) == sorted(trained['predictions'])
    assert all('occurrenceTime' in r for r in records)
    report(f'KServe agent: {len(records)} payload records in {len(keys)} objects under s3://{bucket}/{prefix}')


def test_without_the_region_the_agent_stores_nothing(agent_binary, manifest, model_server, trained, services, emulator_env):
    """The region reaches the agent only through the settings ServiceAccount's annotation: without
    it, the pod the controller makes has none, and the agent stores nothing."""
    cluster, isvc = manifest['cluster'], manifest['isvc']
    namespace, name = isvc['metadata']['namespace'], isvc['metadata']['name']
    settings = isvc['spec']['predictor']['logger']['storage']['serviceAccountName']
    region = 'serving.kserve.io/s3-region'
    assert cluster.api.kubectl('-n', namespace, 'annotate', 'serviceaccount', settings, f'{region}-').returncode == 0
    try:
        pod = remade_pod(cluster, namespace, name, manifest['pod'])
    finally:
        restored = cluster.api.kubectl('-n', namespace, 'annotate', 'serviceaccount', settings,
                                       f'{region}={k8s.load_endpoints()["awsRegion"]}')
        assert restored.returncode == 0, restored.stderr
    bucket = isvc['spec']['predictor']['logger']['url'][len('s3://'):].partition('/')[0]
    before = len(_payload_objects(services['s3'], bucket, ''))
    env, log = _run_agent(pod, model_server, emulator_env, [{'instances': trained['rows'][:1]}], '1s')
    assert 'AWS_DEFAULT_REGION' not in env
    assert 'MissingRegion' in log, log[-3000:]
    assert len(_payload_objects(services['s3'], bucket, '')) == before


def remade_pod(cluster, namespace, name, old):
    """The pod the ReplicaSet makes after `old` is deleted (KServe's webhook mutates it afresh)."""
    deleted = cluster.api.kubectl('-n', namespace, 'delete', 'pod', old['metadata']['name'], '--wait=false')
    assert deleted.returncode == 0, deleted.stderr
    deadline = time.monotonic() + 60
    while True:
        fresh = [p for p in cluster.wait_for_pods(namespace, name, 1) if p['metadata']['uid'] != old['metadata']['uid']
                 and not p['metadata'].get('deletionTimestamp')]
        if fresh:
            return fresh[0]
        assert time.monotonic() < deadline, 'the ReplicaSet made no new pod'
        time.sleep(0.2)


@pytest.fixture(scope='module')
def mlflow_tracking(services, endpoints):
    """The real MLflow server of the synthesized MLflow manifest, storing artifacts in the emulator,
    and how a client pod reaches it: by its Service name (cluster DNS emulated, see cluster_dns/)."""
    objects = k8s.load_objects('mlflow.json')
    master = services['create_rds_database']('mlflowkserve', password='Rds-like.Pass_word-43')
    secrets = rds_secrets(endpoints, master, 'mlflow_server')
    service = k8s.find(objects, 'Service')
    name = f'{service["metadata"]["name"]}.{endpoints["mlflow"]["namespace"]}.svc.cluster.local'
    port = service['spec']['ports'][0]['port']
    with run_server(pod_spec_of(objects), secrets) as server:
        yield {'uri': f'http://{name}:{port}', 'local': f'http://127.0.0.1:{server.local_port}',
               'env': {'PYTHONPATH': os.path.join(ROOT, 'test', 'contract', 'cluster_dns'),
                       'CONTRACT_CLUSTER_DNS': f'{name}:{port}={server.local_port}'}}


def test_a_registered_mlflow_model_is_served_from_the_artifact_store_with_its_lineage(mlflow_tracking, endpoints, emulator_env, manifest, services):
    folder = tempfile.mkdtemp(prefix='contract-mlflow-model-')
    result_file = os.path.join(folder, 'logged.json')
    logging = subprocess.run([kp.KSERVE_PYTHON, '-c', LOG_TO_MLFLOW, mlflow_tracking['uri'], result_file],
                             env=kp.clean_env(mlflow_tracking['env']), capture_output=True, text=True)
    assert logging.returncode == 0, logging.stderr[-3000:]
    logged = json.load(open(result_file))
    assert logged['artifactUri'].startswith('mlflow-artifacts:/'), logged
    declared = json.loads(subprocess.run(
        ['node', '-r', './scripts/register.js', 'scripts/contract/mlflow-isvc.ts', json.dumps({
            'isvcName': 'iris-linear', 'name': logged['name'], 'version': logged['version'], 'runId': logged['runId'],
            'artifactUri': logged['artifactUri']})],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    isvc = declared['isvc']
    # The model's own role, as the stack synthesizes it for this version: it reads this model's artifacts only.
    services['identities'].declare(declared['policies'])
    model = isvc['spec']['predictor']['model']
    assert model['storageUri'] == f"{endpoints['mlflow']['artifactsDestination']}/{logged['artifactUri'].split(':', 1)[1].lstrip('/')}"
    [(account, documents)] = declared['policies'].items()
    assert account == f"{isvc['metadata']['namespace']}/{isvc['spec']['predictor']['serviceAccountName']}"
    assert any(model['storageUri'][len('s3://'):] + '/*' in json.dumps(d) for d in documents), documents
    assert model['modelFormat'] == {'name': 'mlflow'} and model['protocolVersion'] == 'v2'
    annotations = isvc['metadata']['annotations']
    assert annotations['models.cdk-mlops-stack.io/run-id'] == logged['runId']
    assert annotations['models.cdk-mlops-stack.io/registered-model'] == 'iris-linear'
    # The run the annotation names is the one MLflow recorded for the version.
    host = mlflow_tracking['uri'][len('http://'):]
    run = requests.get(f'{mlflow_tracking["local"]}/api/2.0/mlflow/runs/get', params={'run_id': annotations['models.cdk-mlops-stack.io/run-id']},
                       headers={'Host': host}, timeout=10)
    assert run.json()['run']['info']['run_id'] == logged['runId']

    # Applied after the controller as the stack applies its models; the pod KServe makes of it downloads the model.
    cluster = manifest['cluster']
    cluster.deploy([isvc])
    [pod] = cluster.wait_for_pods(isvc['metadata']['namespace'], isvc['metadata']['name'], 1)
    assert kp.container(pod, 'storage-initializer')['args'][0] == model['storageUri']
    models = tempfile.mkdtemp(prefix='contract-mlflow-models-')
    code, log, seconds = kp.run_storage_initializer(pod, models, emulator_env)
    assert code == 0, log
    assert 'MLmodel' in os.listdir(models)
    port, grpc = pods.free_port(), pods.free_port()
    server = os.path.join(ROOT, 'test', 'contract', 'model_servers', 'mlflow_model_server.py')
    proc = subprocess.Popen([kp.KSERVE_PYTHON, server, f'--model_name={isvc["metadata"]["name"]}', f'--model_dir={models}',
                             f'--http_port={port}', f'--grpc_port={grpc}'], env=kp.clean_env({}), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f'http://127.0.0.1:{port}/v2/models/iris-linear'
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f'{url}/ready', timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        rows = logged['rows']
        body = {'inputs': [{'name': 'input-0', 'shape': [len(rows), 4], 'datatype': 'FP64', 'data': [x for r in rows for x in r]}]}
        answer = requests.post(f'{url}/infer', json=body, timeout=10).json()
        assert answer['outputs'][0]['data'] == logged['predictions']
        report(f'MLflow-registered model (version {logged["version"]}, run {logged["runId"][:8]}): downloaded in {seconds:.1f} s, served over v2')
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
