"""MLflow contract: the real MLflow (the pinned image's release, from PyPI) runs the synthesized pod."""
import concurrent.futures

import pytest
import sqlalchemy

import eso
import k8s
import mlflow_checks as checks
from conftest import report
from mlflow_server import pod_spec_of, run_init_containers, run_server


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('mlflow.json')


@pytest.fixture(scope='module')
def database_uri(services, endpoints):
    """The URI External Secrets writes from the RDS secret, rendered from the stack's own template."""
    template = eso.external_secret(k8s.load_objects('stack.json'), endpoints['mlflow']['secretName'])
    # A password drawn from the characters the generated RDS password may contain.
    database = services['create_database']('mlflow', password='Rds-like.Pass_word-42')
    rds_secret = {**database.fields, 'engine': 'postgres', 'dbInstanceIdentifier': 'mlflowdatabase'}
    return eso.render(template['spec']['target']['template']['data']['uri'], rds_secret)


def test_the_rendered_uri_uses_psycopg2_and_requires_tls(database_uri):
    assert database_uri.startswith('postgresql+psycopg2://mlflow:Rds-like.Pass_word-42@127.0.0.1:')
    assert database_uri.endswith('/mlflow?sslmode=require')
    with sqlalchemy.create_engine(database_uri).connect() as conn:
        assert conn.execute(sqlalchemy.text('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).scalar() is True


@pytest.fixture(scope='module')
def server(objects, database_uri, endpoints):
    secrets = {endpoints['mlflow']['secretName']: {'uri': database_uri}}
    with run_server(pod_spec_of(objects), secrets) as running:
        report(f'server start-to-ready (init containers excluded): {running.start_to_ready_seconds:.1f} s')
        yield running


@pytest.fixture(scope='module')
def service(objects):
    return k8s.find(objects, 'Service')


@pytest.fixture(scope='module')
def tracking_uri(server, service, endpoints):
    """The in-cluster tracking URI, as a client pod in another namespace would use it."""
    checks.remove_aws_credentials()
    name, namespace = service['metadata']['name'], endpoints['mlflow']['namespace']
    checks.use_cluster_dns([name, f'{name}.{namespace}', f'{name}.{namespace}.svc', f'{name}.{namespace}.svc.cluster.local'])
    port = service['spec']['ports'][0]['port']
    assert port == server.port
    return f'http://{name}.{namespace}.svc.cluster.local:{port}'


def test_migration_creates_the_schema_once_when_replicas_start_together(objects, services, endpoints):
    pod = pod_spec_of(objects)
    secrets = {endpoints['mlflow']['secretName']: {'uri': services['create_database']('concurrent')}}
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for future in [pool.submit(run_init_containers, pod, secrets) for _ in range(3)]:
            future.result()
    # And again on the current schema: a restart must be a no-op.
    run_init_containers(pod, secrets)
    engine = sqlalchemy.create_engine(secrets[endpoints['mlflow']['secretName']]['uri'])
    with engine.connect() as conn:
        versions = conn.execute(sqlalchemy.text('SELECT version_num FROM alembic_version')).fetchall()
        assert len(versions) == 1
        tables = set(sqlalchemy.inspect(conn).get_table_names())
    assert {'experiments', 'runs', 'metrics', 'registered_models', 'model_versions'} <= tables


@pytest.mark.parametrize('probe', ['startupProbe', 'readinessProbe', 'livenessProbe'])
def test_probe_paths_answer_whatever_the_host(server, probe):
    path, port = k8s.probe_path(server.container, probe)
    assert port == server.port
    # The kubelet probes by pod IP, which is not an allowed host: the health paths must be exempt.
    response = checks.request_with_host(server, path, f'10.1.2.3:{port}')
    assert response.status_code == 200


def test_every_in_cluster_service_name_is_accepted(server, service, endpoints):
    name, namespace = service['metadata']['name'], endpoints['mlflow']['namespace']
    port = service['spec']['ports'][0]['port']
    expected = [f'{n}{p}' for n in [name, f'{name}.{namespace}', f'{name}.{namespace}.svc', f'{name}.{namespace}.svc.cluster.local']
                for p in ['', f':{port}']]
    assert server.env['MLFLOW_SERVER_ALLOWED_HOSTS'].split(',') == expected
    for host in expected:
        checks.check_host_accepted(server, host)


@pytest.mark.parametrize('host', ['evil.example.com', 'mlflow.other-namespace.svc.cluster.local:5000', '10.1.2.3:5000', 'localhost:5000'])
def test_foreign_host_headers_are_refused(server, host):
    checks.check_host_refused(server, host)


def test_tracking_and_proxied_artifacts_without_client_credentials(tracking_uri, services):
    run_id = checks.check_tracking_and_artifacts(tracking_uri, 'contract-tracking')
    keys = [o['Key'] for o in services['s3'].list_objects_v2(Bucket=services['bucket']).get('Contents', [])]
    assert any(k.startswith('mlflow/') and k.endswith(f'{run_id}/artifacts/notes.txt') for k in keys), keys


def test_model_registry_round_trip(tracking_uri):
    checks.check_model_registry(tracking_uri, 'contract-model')


def test_log_metric_latency(tracking_uri, server):
    result = checks.measure_log_metric(tracking_uri, 500)
    report(f'log_metric over {result["calls"]} calls with {server.env.get("MLFLOW_WORKERS") or _workers(server)} workers: '
           f'p50 {result["p50_ms"]:.1f} ms, p99 {result["p99_ms"]:.1f} ms')
    assert result['p99_ms'] < 2000


def test_artifact_upload_throughput(tracking_uri):
    result = checks.measure_artifact_upload(tracking_uri, 50)
    report(f'artifact upload through the proxy: {result["megabytes"]} MB in {result["seconds"]:.2f} s = {result["mb_per_s"]:.1f} MB/s')


def _workers(server):
    args = server.container['args']
    return args[args.index('--workers') + 1]
