"""What an in-cluster MLflow client does, checked against a running server.

The client runs in this process with no AWS credentials at all, and reaches the server by its
Service DNS name: cluster DNS is emulated by resolving the service names to 127.0.0.1, so the
Host header the server sees is exactly the one it would see in the cluster.
"""
import hashlib
import os
import socket
import statistics
import tempfile
import time

import mlflow
import pandas
import requests
from mlflow.tracking import MlflowClient

_real_getaddrinfo = socket.getaddrinfo
_cluster_names = set()
_service_ports = {}


def _cluster_dns(host, port=None, *args, **kwargs):
    if host in _cluster_names:
        host = '127.0.0.1'
        port = _service_ports.get(int(port), port) if port is not None else port
    return _real_getaddrinfo(host, port, *args, **kwargs)


def route_service_port(service_port, local_port):
    """Connections to a cluster name on `service_port` reach the local server, like kube-proxy's."""
    _service_ports[int(service_port)] = local_port


def use_cluster_dns(names):
    """Resolves the given in-cluster names to the local server."""
    _cluster_names.update(names)
    socket.getaddrinfo = _cluster_dns


def remove_aws_credentials():
    for key in [k for k in os.environ if k.startswith('AWS_')]:
        del os.environ[key]
    os.environ['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent'
    os.environ['AWS_CONFIG_FILE'] = '/nonexistent'
    os.environ['AWS_EC2_METADATA_DISABLED'] = 'true'


def request_with_host(server, path, host):
    return requests.get(server.url(path), headers={'Host': host}, timeout=10)


def check_host_accepted(server, host):
    response = request_with_host(server, '/api/2.0/mlflow/experiments/search?max_results=1', host)
    assert response.status_code == 200, f'Host {host!r}: {response.status_code} {response.text[:200]}'


def check_host_refused(server, host):
    response = request_with_host(server, '/api/2.0/mlflow/experiments/search?max_results=1', host)
    assert response.status_code == 403, f'Host {host!r} was not refused: {response.status_code}'


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


def check_tracking_and_artifacts(tracking_uri, experiment_name):
    """Experiment, params, metrics and an artifact through the proxy; returns the run id."""
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = mlflow.create_experiment(experiment_name)
    experiment = mlflow.get_experiment(experiment_id)
    # Proxied artifacts: the experiment's root is the server, not the bucket.
    assert experiment.artifact_location.startswith('mlflow-artifacts:'), experiment.artifact_location
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({'learning_rate': 0.01, 'depth': 6})
        for step in range(5):
            mlflow.log_metric('loss', 1.0 / (step + 1), step=step)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'notes.txt')
            with open(path, 'w') as f:
                f.write('proxied through the tracking server\n')
            mlflow.log_artifact(path)
    client = MlflowClient(tracking_uri)
    data = client.get_run(run.info.run_id).data
    assert data.params == {'learning_rate': '0.01', 'depth': '6'}
    assert [m.value for m in client.get_metric_history(run.info.run_id, 'loss')] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path='notes.txt', dst_path=tmp)
        assert open(local).read() == 'proxied through the tracking server\n'
    return run.info.run_id


def check_model_registry(tracking_uri, model_name):
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name='model', python_model=Doubler(), pip_requirements=['mlflow'])
    version = mlflow.register_model(info.model_uri, model_name)
    assert version.version == '1'
    loaded = mlflow.pyfunc.load_model(f'models:/{model_name}/1')
    result = loaded.predict(pandas.DataFrame({'x': [1, 2, 3]}))
    assert list(result['x']) == [2, 4, 6]


def measure_log_metric(tracking_uri, calls):
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(f'latency-{time.time_ns()}')
    run_id = client.create_run(experiment_id).info.run_id
    latencies = []
    for i in range(calls):
        start = time.perf_counter()
        client.log_metric(run_id, 'latency_probe', float(i), step=i)
        latencies.append(time.perf_counter() - start)
    assert len(client.get_metric_history(run_id, 'latency_probe')) == calls
    ordered = sorted(latencies)
    return {'calls': calls, 'p50_ms': statistics.median(ordered) * 1000,
            'p99_ms': ordered[int(len(ordered) * 0.99) - 1] * 1000}


def measure_artifact_upload(tracking_uri, megabytes):
    mlflow.set_tracking_uri(tracking_uri)
    payload = os.urandom(megabytes * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'blob.bin')
        with open(path, 'wb') as f:
            f.write(payload)
        with mlflow.start_run() as run:
            start = time.perf_counter()
            mlflow.log_artifact(path)
            seconds = time.perf_counter() - start
        local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path='blob.bin', dst_path=os.path.join(tmp, 'back'))
        assert hashlib.sha256(open(local, 'rb').read()).digest() == hashlib.sha256(payload).digest()
    return {'megabytes': megabytes, 'seconds': seconds, 'mb_per_s': megabytes / seconds}
