"""MLflow contract: the real MLflow (the pinned image's release, from PyPI) runs the synthesized pod."""
import concurrent.futures
import os

import pytest
import sqlalchemy

import eso
import k8s
import mlflow_checks as checks
from conftest import report
from mlflow_server import pod_spec_of, rds_secrets, run_init_containers, run_server

SERVER_ROLE = 'mlflow_server'


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('mlflow.json')


@pytest.fixture(scope='module')
def rds(services):
    # A password drawn from the characters the generated RDS password may contain.
    return {**services['create_rds_database']('mlflow', password='Rds-like.Pass_word-42'),
            'engine': 'postgres', 'dbInstanceIdentifier': 'mlflowdatabase'}


@pytest.fixture(scope='module')
def database_uri(rds, endpoints):
    """The URI External Secrets writes, rendered from the stack's own ExternalSecret: the credentials
    from the server's own secret, the endpoint from the master secret (its `data` keys)."""
    external_secret = eso.external_secret(k8s.load_objects('stack.json'), endpoints['mlflow']['secretName'])
    server_secret = {'username': SERVER_ROLE, 'password': 'Server-like.Pass_word-7'}
    return eso.render(external_secret['spec']['target']['template']['data']['uri'],
                      {**server_secret, **eso.copied_keys(external_secret, rds)})


@pytest.fixture(scope='module')
def admin_secret(rds, endpoints):
    """The master credentials as the stack's second ExternalSecret copies them."""
    external_secret = eso.external_secret(k8s.load_objects('stack.json'), endpoints['mlflow']['adminSecretName'])
    return eso.copied_keys(external_secret, rds)


def test_the_rendered_uri_uses_psycopg2_and_requires_tls(database_uri):
    assert database_uri.startswith(f'postgresql+psycopg2://{SERVER_ROLE}:Server-like.Pass_word-7@127.0.0.1:')
    assert database_uri.endswith('/mlflow?sslmode=require')



def test_the_server_role_exists_only_after_db_bootstrap(database_uri):
    with pytest.raises(sqlalchemy.exc.OperationalError, match='password authentication failed'):
        sqlalchemy.create_engine(database_uri).connect().close()


def test_the_uri_requires_tls(server, database_uri):
    with sqlalchemy.create_engine(database_uri).connect() as conn:
        assert conn.execute(sqlalchemy.text('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).scalar() is True


@pytest.fixture(scope='module')
def server(objects, database_uri, admin_secret, endpoints):
    secrets = {endpoints['mlflow']['secretName']: {'uri': database_uri}, endpoints['mlflow']['adminSecretName']: admin_secret}
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
    secrets = rds_secrets(endpoints, services['create_rds_database']('concurrent'), 'concurrent_server')
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
    # A check that the server answers in time; the 500-call measurement is npm run bench:contract's.
    result = checks.measure_log_metric(tracking_uri, 500 if os.environ.get('CONTRACT_BENCH') else 100)
    report(f'log_metric over {result["calls"]} calls with {server.env.get("MLFLOW_WORKERS") or _workers(server)} workers: '
           f'p50 {result["p50_ms"]:.1f} ms, p99 {result["p99_ms"]:.1f} ms')
    assert result['p99_ms'] < 2000


def test_artifact_upload_throughput(tracking_uri):
    result = checks.measure_artifact_upload(tracking_uri, 50)
    report(f'artifact upload through the proxy: {result["megabytes"]} MB in {result["seconds"]:.2f} s = {result["mb_per_s"]:.1f} MB/s')


def _workers(server):
    args = server.container['args']
    return args[args.index('--workers') + 1]


def _superuser(services, database):
    return sqlalchemy.create_engine(f'{services["superuser_uri"]}/{database}', poolclass=sqlalchemy.pool.NullPool)


def test_the_server_connects_as_its_own_role_never_the_master(tracking_uri, services, rds):
    checks.check_tracking_and_artifacts(tracking_uri, 'contract-roles')
    with _superuser(services, 'postgres').connect() as conn:
        users = {r[0] for r in conn.execute(sqlalchemy.text(
            "SELECT usename FROM pg_stat_activity WHERE datname = 'mlflow' AND backend_type = 'client backend'"))}
    assert users == {SERVER_ROLE}, users


def test_the_server_role_owns_its_database_and_nothing_more(server, services, rds):
    with _superuser(services, 'mlflow').connect() as conn:
        role = conn.execute(sqlalchemy.text('SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles '
                                            'WHERE rolname = :r'), {'r': SERVER_ROLE}).one()
        assert tuple(role) == (False, False, False, False)
        owner = conn.execute(sqlalchemy.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'mlflow'")).scalar()
        assert owner == SERVER_ROLE
        owners = {r[0] for r in conn.execute(sqlalchemy.text(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"))}
        assert owners == {SERVER_ROLE}
        # PUBLIC may no longer connect: another component's role on a shared instance cannot get in.
        assert conn.execute(sqlalchemy.text("SELECT has_database_privilege('public', 'mlflow', 'CONNECT')")).scalar() is False


def test_two_components_on_one_instance_cannot_reach_each_other(objects, services, endpoints, database_uri, server):
    """A second database bootstrapped the same way on the same server: neither role gets into the other's."""
    other = services['create_rds_database']('othercomponent')
    secrets = rds_secrets(endpoints, other, 'othercomponent_server')
    run_init_containers(pod_spec_of(objects), secrets)
    other_uri = secrets[endpoints['mlflow']['secretName']]['uri']
    into_other = database_uri.replace('/mlflow?', '/othercomponent?')
    into_mlflow = other_uri.replace('/othercomponent?', '/mlflow?')
    for uri in (into_other, into_mlflow):
        with pytest.raises(sqlalchemy.exc.OperationalError, match='permission denied for database'):
            sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool).connect().close()


def test_tables_an_earlier_release_created_as_master_are_handed_over(objects, services, endpoints):
    """The upgrade path: before db-bootstrap, MLflow migrated as the master user and owned nothing."""
    import subprocess
    import sys
    master = services['create_rds_database']('legacy')
    master_uri = (f'postgresql+psycopg2://{master["username"]}:{master["password"]}@127.0.0.1:{master["port"]}/legacy'
                  '?sslmode=require')
    subprocess.run([sys.executable, '-m', 'mlflow', 'db', 'upgrade', master_uri], check=True, capture_output=True, timeout=300)
    run_init_containers(pod_spec_of(objects), rds_secrets(endpoints, master, 'legacy_server'))
    with _superuser(services, 'legacy').connect() as conn:
        owners = {r[0] for r in conn.execute(sqlalchemy.text(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"))}
        assert owners == {'legacy_server'}
        assert len(conn.execute(sqlalchemy.text('SELECT version_num FROM alembic_version')).fetchall()) == 1


def test_db_bootstrap_refuses_a_uri_with_the_master_user(objects, services, endpoints):
    master = services['create_rds_database']('sameuser')
    secrets = rds_secrets(endpoints, master, master['username'], server_password=master['password'])
    with pytest.raises(RuntimeError, match='the URI uses the admin role'):
        run_init_containers(pod_spec_of(objects), secrets)
