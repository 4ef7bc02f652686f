"""MLflow basic auth as the chart renders it (PRODUCTION: two replicas), run by the real MLflow."""
import concurrent.futures
import os
import tempfile

import mlflow
import pytest
import requests

import k8s
import mlflow_checks as checks
from mlflow_server import pod_spec_of, run_init_containers, run_server

ADMIN_PASSWORD = 'Contract-admin.Pass_1'


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('mlflow-auth.json')


@pytest.fixture(scope='module')
def secrets(services, endpoints):
    return {
        endpoints['mlflow']['secretName']: {'uri': services['create_database']('mlflow_auth')},
        endpoints['mlflow']['authSecretName']: {'admin-password': ADMIN_PASSWORD, 'flask-secret-key': 'contract-flask-key'},
    }


@pytest.fixture(scope='module')
def server(objects, secrets):
    pod = pod_spec_of(objects)
    # Both replicas of the Deployment start at once: their init containers race on a fresh database.
    replicas = k8s.find(objects, 'Deployment')['spec']['replicas']
    assert replicas == 2
    with concurrent.futures.ThreadPoolExecutor(replicas) as pool:
        for future in [pool.submit(run_init_containers, pod, secrets) for _ in range(replicas)]:
            future.result()
    with run_server(pod, secrets) as running:
        yield running


# The Host header of an in-cluster client calling the Service by its full name.
HOST = 'mlflow.mlflow.svc.cluster.local:5000'


def _api(server, method, path, auth=None, **kwargs):
    # A bound against a hung server, not a latency check: the first signed-in request verifies a
    # slow password hash and opens the auth database, and on 2 cores beside the other contract
    # session it once took over 10 s.
    return requests.request(method, server.url(path), headers={'Host': HOST}, auth=auth, timeout=60, **kwargs)


def _search(server, auth=None):
    return _api(server, 'GET', '/api/2.0/mlflow/experiments/search?max_results=1', auth)


def _create_user(server, username, password):
    created = _api(server, 'POST', '/api/2.0/mlflow/users/create', ('admin', ADMIN_PASSWORD),
                   json={'username': username, 'password': password})
    assert created.status_code == 200, created.text


def test_no_credentials_no_access(server):
    assert _search(server).status_code == 401


def test_wrong_password_no_access(server):
    assert _search(server, ('admin', 'not-the-password')).status_code == 401


def test_admin_from_the_secret_has_access(server):
    assert _search(server, ('admin', ADMIN_PASSWORD)).status_code == 200


def test_health_needs_no_login(server):
    path, _ = k8s.probe_path(server.container, 'readinessProbe')
    assert requests.get(server.url(path), timeout=10).status_code == 200


def test_a_user_logs_a_run_with_its_credentials(server):
    checks.remove_aws_credentials()
    checks.use_cluster_dns([HOST.split(':')[0]])
    uri = f'http://{HOST}'
    _create_user(server, 'trainer', 'Trainer-pass.123')
    os.environ['MLFLOW_TRACKING_USERNAME'], os.environ['MLFLOW_TRACKING_PASSWORD'] = 'trainer', 'Trainer-pass.123'
    try:
        mlflow.set_tracking_uri(uri)
        experiment_id = mlflow.create_experiment('auth-contract')
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_metric('accuracy', 0.9)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'report.txt')
                open(path, 'w').write('ok')
                mlflow.log_artifact(path)
        assert mlflow.get_run(run.info.run_id).data.metrics == {'accuracy': 0.9}
    finally:
        del os.environ['MLFLOW_TRACKING_USERNAME'], os.environ['MLFLOW_TRACKING_PASSWORD']


def test_default_permission_hides_others_experiments(server):
    _create_user(server, 'viewer', 'Viewer-pass.123')
    experiment = _api(server, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=auth-contract', ('viewer', 'Viewer-pass.123'))
    assert experiment.status_code == 403
