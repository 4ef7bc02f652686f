"""Feast contract: the real Feast (the pinned image's release, from PyPI, in .venv-feast) runs the
synthesized Feast objects against Debian's redis-server and the S3 emulator.

Two deployments are exercised as they are synthesized:
- the reference stack's (feast-stack.json): Redis with TLS and the ACL users the stack gives
  ElastiCache (feast-stack-users.json: a read-only user for the server, a writer for
  materialization, `default` off); the test
  substitutes the emulator for AWS S3 (FEAST_S3_ENDPOINT_URL) and the test CA for the image's
  trust store (SSL_CERT_FILE), as EKS would give real S3 and Amazon-signed certificates;
- the standalone chart (feast-standalone.json): Feast and the in-cluster Redis StatefulSet, whose
  container runs Debian's redis-server under the image's command name (Debian 12 has no Valkey;
  Valkey is the fork of Redis 7.2 and keeps its flags). Cluster DNS is substituted: the
  connection string's Service name becomes the local address.
"""
import datetime as dt
import io
import os
import statistics
import subprocess
import tempfile
import time

import numpy
import pandas
import pytest
import requests

import eso
import k8s
import pods
from conftest import report
from services import redis_tls

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FEAST_BIN = os.path.join(ROOT, '.venv-feast', 'bin')
ROWS = 100_000
FEATURES = ['driver_stats:conv_rate', 'driver_stats:trips']

REPOSITORY = '''
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
source = FileSource(path="{path}", timestamp_field="event_timestamp")
driver_stats = FeatureView(name="driver_stats", entities=[driver], ttl=timedelta(days=7),
                           schema=[Field(name="conv_rate", dtype=Float32), Field(name="trips", dtype=Int64)], source=source)
'''


def source_rows(n, seed):
    """Driver statistics an hour or more old, so materialization up to now includes them all."""
    rng = numpy.random.default_rng(seed)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return pandas.DataFrame({
        'driver_id': numpy.arange(n, dtype='int64'),
        'conv_rate': rng.random(n, dtype='float32'),
        'trips': rng.integers(0, 1000, n, dtype='int64'),
        'event_timestamp': [now - dt.timedelta(hours=1, seconds=int(s)) for s in rng.integers(0, 3600, n)],
    })


def upload_parquet(services, bucket, key, frame):
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    services['s3'].put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


@pytest.fixture(scope='module')
def bucket(services, endpoints):
    services['s3'].create_bucket(Bucket=endpoints['feast']['bucket'])
    return endpoints['feast']['bucket']


class Deployment:
    """One synthesized Feast deployment: its objects, Secrets, ConfigMap and substituted env."""

    def __init__(self, objects, secrets, extra_env, configmap_text=None):
        self.objects = objects
        self.secrets = secrets
        self.extra_env = extra_env
        self.configmap = dict(next(o for o in objects if o['kind'] == 'ConfigMap' and o['metadata']['name'].startswith('feast'))['data'])
        if configmap_text is not None:
            self.configmap['feature_store.yaml'] = configmap_text
        self.name = next(o for o in objects if o['kind'] == 'ConfigMap' and o['metadata']['name'].startswith('feast'))['metadata']['name']

    def configmaps(self):
        return {self.name: self.configmap}

    def spec(self, kind):
        return pods.pod_spec(next(o for o in self.objects if o['kind'] == kind and o['metadata']['name'].startswith('feast')))

    def with_config(self, text):
        return Deployment(self.objects, self.secrets, self.extra_env, text)

    def apply(self, repository):
        """`feast apply` from CI: the feature repository with the materializer's configuration and env."""
        spec = self.spec('CronJob')
        mounts = pods.volume_folders(spec, self.configmaps())
        container = spec['containers'][0]
        env = pods.process_env(spec, container, self.secrets, mounts, [FEAST_BIN], self.extra_env)
        config = k8s.at_host_paths('/etc/feast/feature_store.yaml', container, mounts)
        result = subprocess.run(['feast', '--chdir', repository, '--feature-store-yaml', config, 'apply'], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    def materialize(self, extra_env=None):
        return pods.run_to_completion(self.spec('CronJob'), self.secrets, self.configmaps(), [FEAST_BIN],
                                      {**self.extra_env, **(extra_env or {})})

    def serve(self):
        return pods.run_server(self.spec('Deployment'), self.secrets, 180, self.configmaps(), [FEAST_BIN], self.extra_env, name='feast')


def repository(path):
    folder = tempfile.mkdtemp(prefix='contract-feast-repo-')
    with open(os.path.join(folder, 'features.py'), 'w') as f:
        f.write(REPOSITORY.format(path=path))
    return folder


def online(server, entities, session=None):
    response = (session or requests).post(server.url('/get-online-features'), timeout=30,
                                          json={'features': FEATURES, 'entities': {'driver_id': entities}})
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    names = body['metadata']['feature_names']
    return {name: result['values'] for name, result in zip(names, body['results'])}


def assert_served_equal_source(server, frame, entities):
    values = online(server, entities)
    expected = frame.set_index('driver_id').loc[entities]
    assert values['driver_id'] == entities
    assert values['trips'] == expected['trips'].tolist()
    assert numpy.allclose(values['conv_rate'], expected['conv_rate'].to_numpy(), rtol=0, atol=1e-6)


# The reference stack's Feast, against TLS + AUTH Redis.

@pytest.fixture(scope='module')
def stack_users():
    """The stack's ElastiCache users, each with a password of its own."""
    return [{**u, 'password': f'{u["username"]}-Generated-0123456789abcdef'} for u in k8s.load_objects('feast-stack-users.json')]


@pytest.fixture(scope='module')
def stack_feast(bucket, endpoints, stack_users):
    objects = k8s.load_objects('feast-stack.json')
    users = [(u['username'], u['access'], u['password']) for u in stack_users]
    with redis_tls(endpoints['redisPort'], 'contract-admin-password-0123456789', users) as redis:
        # What ESO copies into each pod Secret: the password of the user whose secret it names.
        by_key = {u['remoteKey']: u for u in stack_users if u['remoteKey']}
        secrets = {}
        for external_secret in (o for o in objects if o['kind'] == 'ExternalSecret'):
            key = {d['remoteRef']['key'] for d in external_secret['spec']['data']}.pop()
            secrets[external_secret['spec']['target']['name']] = eso.copied_keys(external_secret, {'password': by_key[key]['password']})
        extra_env = {'FEAST_S3_ENDPOINT_URL': endpoints['s3EndpointUrl'], 'SSL_CERT_FILE': redis['ca_file']}
        yield Deployment(objects, secrets, extra_env), redis


@pytest.fixture(scope='module')
def materialized(stack_feast, services, bucket):
    deployment, redis = stack_feast
    frame = source_rows(ROWS, seed=7)
    upload_parquet(services, bucket, 'offline/driver_stats.parquet', frame)
    deployment.apply(repository(f's3://{bucket}/offline/driver_stats.parquet'))
    run = deployment.materialize()
    assert run.returncode == 0, run.output[-3000:]
    report(f'feast materialize-incremental, {ROWS} rows into TLS Redis: {run.seconds:.1f} s wall, {run.peak_mib:.0f} MiB peak RSS')
    return frame, run


def redis_cli(redis, *args, user=None):
    """redis-cli as the test's own admin, or as `user` (a dict with username and password)."""
    who = ['--user', user['username'], '--pass', user['password']] if user else \
        (['--user', redis['admin'], '--pass', redis['password']] if redis['admin'] else ['-a', redis['password']])
    result = subprocess.run(['redis-cli', '--tls', '--cacert', redis['ca_file'], '-p', str(redis['port']), '--no-auth-warning',
                             *who, *args], capture_output=True, text=True, timeout=30)
    return (result.stdout + result.stderr).strip()


def test_materialization_writes_every_entity_to_the_online_store(materialized, stack_feast):
    _, redis = stack_feast
    assert int(redis_cli(redis, 'dbsize')) == ROWS


def _user(stack_users, name):
    return next(u for u in stack_users if u['username'] == name)


def test_the_server_and_materializer_sign_in_as_different_users(stack_feast, stack_users):
    deployment, _ = stack_feast
    env = {kind: {e['name']: e.get('value') for e in deployment.spec(kind)['containers'][0]['env']} for kind in ('Deployment', 'CronJob')}
    assert env['Deployment']['FEAST_REDIS_USERNAME'] == 'feast-reader'
    assert env['CronJob']['FEAST_REDIS_USERNAME'] == 'feast-writer'
    assert {u['username'] for u in stack_users} == {'default', 'feast-reader', 'feast-writer'}


def test_the_read_only_user_cannot_write_or_flush(materialized, stack_feast, stack_users):
    _, redis = stack_feast
    reader = _user(stack_users, 'feast-reader')
    assert redis_cli(redis, 'ping', user=reader) == 'PONG'
    for command in (['set', 'x', '1'], ['hset', 'x', 'f', '1'], ['del', 'x'], ['flushall'], ['flushdb'], ['keys', '*'], ['config', 'get', '*']):
        assert 'NOPERM' in redis_cli(redis, *command, user=reader), command
    assert int(redis_cli(redis, 'dbsize')) == ROWS


def test_the_writer_cannot_flush_or_reconfigure(materialized, stack_feast, stack_users):
    _, redis = stack_feast
    writer = _user(stack_users, 'feast-writer')
    for command in (['flushall'], ['flushdb'], ['config', 'set', 'maxmemory', '1'], ['acl', 'list']):
        assert 'NOPERM' in redis_cli(redis, *command, user=writer), command
    assert int(redis_cli(redis, 'dbsize')) == ROWS


def test_the_default_user_is_off(stack_feast, stack_users):
    _, redis = stack_feast
    default = _user(stack_users, 'default')
    assert default['remoteKey'] is None
    result = subprocess.run(['redis-cli', '--tls', '--cacert', redis['ca_file'], '-p', str(redis['port']), 'ping'],
                            capture_output=True, text=True, timeout=30)
    assert 'NOAUTH' in result.stdout + result.stderr
    assert 'WRONGPASS' in redis_cli(redis, 'ping', user=default)


def test_the_registry_is_written_where_the_server_role_may_read(materialized, services, bucket):
    keys = [o['Key'] for o in services['s3'].list_objects_v2(Bucket=bucket, Prefix='registry/').get('Contents', [])]
    assert keys == ['registry/registry.pb']


@pytest.fixture(scope='module')
def server(materialized, stack_feast):
    deployment, _ = stack_feast
    with deployment.serve() as running:
        report(f'feast serve start-to-ready: {running.start_to_ready_seconds:.1f} s')
        yield running


def test_the_server_serves_the_source_rows(server, materialized):
    frame, _ = materialized
    assert_served_equal_source(server, frame, [0, 1, 4242, ROWS - 1])
    rng = numpy.random.default_rng(1)
    assert_served_equal_source(server, frame, [int(i) for i in rng.choice(ROWS, 100, replace=False)])


def test_a_client_cannot_write_through_the_server(server, materialized, stack_feast):
    """The server's write endpoints are open (Feast's auth is off), but it signs in as the read-only
    user: what a client sends never reaches the online store."""
    frame, _ = materialized
    _, redis = stack_feast
    before = online(server, [3])
    assert before['trips'] == [int(frame.set_index('driver_id').loc[3, 'trips'])]
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    write = requests.post(server.url('/write-to-online-store'), timeout=60, json={
        'feature_view_name': 'driver_stats',
        'df': {'driver_id': [3], 'conv_rate': [0.5], 'trips': [999_999], 'event_timestamp': [now]}})
    assert write.status_code == 500, write.text[:500]
    assert "no permissions to run the 'hset' command" in open(server.log).read()
    assert online(server, [3]) == before
    assert int(redis_cli(redis, 'dbsize')) == ROWS


@pytest.fixture
def fresh_server(materialized, stack_feast):
    """A server of its own, for a request that changes what the server holds in memory."""
    deployment, _ = stack_feast
    with deployment.serve() as running:
        yield running


def test_a_client_cannot_materialize_through_the_server(fresh_server, materialized, stack_feast, services, bucket):
    """/materialize-incremental needs the offline data and a registry write, which the server's role
    may not do, and the online store, which its user may not write."""
    _, redis = stack_feast
    registry = services['s3'].get_object(Bucket=bucket, Key='registry/registry.pb')['Body'].read()
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    response = requests.post(fresh_server.url('/materialize-incremental'), timeout=120, json={'end_ts': now})
    assert response.status_code == 500, response.text[:500]
    assert 'AccessDenied' in open(fresh_server.log).read()
    assert services['s3'].get_object(Bucket=bucket, Key='registry/registry.pb')['Body'].read() == registry
    assert int(redis_cli(redis, 'dbsize')) == ROWS
    # Known gap, asserted below: the refused request leaves the view MATERIALIZING in the server's cache.


@pytest.mark.xfail(strict=True, reason='Feast 0.67 marks the view MATERIALIZING in the server\'s registry cache before the write '
                   'is refused, so it serves nothing for that view until the next registry refresh (registryCacheTtlSeconds); '
                   'closing it needs Feast authorization with WRITE_ONLINE for the materializer only (#20 item 5)')
def test_serving_survives_a_client_s_materialize_request(fresh_server, materialized):
    requests.post(fresh_server.url('/materialize-incremental'), timeout=120, json={'end_ts': dt.datetime.now(dt.timezone.utc).isoformat()})
    online(fresh_server, [3])


def test_an_unknown_entity_gets_no_values_not_invented_ones(server):
    # Feast 0.67's HTTP server reports the status PRESENT with null values for a key it does not have.
    assert online(server, [ROWS + 10]) == {'driver_id': [ROWS + 10], 'conv_rate': [None], 'trips': [None]}


@pytest.mark.parametrize('entities', [1, 100])
def test_online_latency_with_the_rendered_workers(server, entities):
    rng = numpy.random.default_rng(entities)
    session = requests.Session()
    timings, retried = [], 0
    for _ in range(1000):
        ids = [int(i) for i in rng.choice(ROWS, entities, replace=False)]
        started = time.perf_counter()
        try:
            online(server, ids, session)
        except requests.ConnectionError:
            # feast serve's gunicorn recycles a worker every 1000-1050 requests (Feast's --max-requests
            # default); a keep-alive request that races the recycle is reset. Clients retry reads.
            retried += 1
            online(server, ids, session)
        timings.append((time.perf_counter() - started) * 1000)
    assert retried <= 2
    timings.sort()
    p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    workers = server.container['args'][server.container['args'].index('--workers') + 1]
    report(f'feast get-online-features, {entities} entit{"y" if entities == 1 else "ies"}/request, 1000 requests, '
           f'{workers} worker(s): p50 {p50:.1f} ms, p99 {p99:.1f} ms, {retried} retried after a worker recycle')
    report(f'feast serve resident memory after the requests: {server.rss_mib():.0f} MiB')
    assert p99 < 2000


# Mutants of the rendered feature_store.yaml: each must break what the original does.

@pytest.mark.parametrize('mutation', [
    (',ssl=true', '', 'Connection'),
    ('redis_type: redis\n', 'redis_type: redis_cluster\n', 'cluster'),
], ids=['no-tls', 'cluster-mode'])
def test_a_mutated_online_store_key_breaks_serving(materialized, stack_feast, mutation):
    deployment, _ = stack_feast
    old, new, error = mutation
    text = deployment.configmap['feature_store.yaml']
    assert old in text
    with deployment.with_config(text.replace(old, new)).serve() as running:
        response = requests.post(running.url('/get-online-features'), timeout=60,
                                 json={'features': FEATURES, 'entities': {'driver_id': [1]}})
        assert response.status_code == 500
        log = open(running.log).read()
        assert error in log, log[-2000:]


def test_without_the_s3_bridge_materialization_cannot_read_s3(materialized, stack_feast):
    """The image's package set has no s3fs: without the materializer's PYTHONPATH, Dask cannot open s3://."""
    deployment, _ = stack_feast
    spec = deployment.spec('CronJob')
    container = spec['containers'][0]
    container['env'] = [e for e in container['env'] if e['name'] != 'PYTHONPATH']
    run = pods.run_to_completion(spec, deployment.secrets, deployment.configmaps(), [FEAST_BIN], deployment.extra_env)
    assert run.returncode != 0
    assert 'Install s3fs' in run.output


# The standalone chart: Feast with the in-cluster Redis (no TLS, password from a Secret, AOF).

@pytest.fixture(scope='module')
def valkey_shim():
    """The image's command names, for Debian's Redis binaries."""
    folder = tempfile.mkdtemp(prefix='contract-valkey-')
    for name in ('server', 'cli'):
        os.symlink(f'/usr/bin/redis-{name}', os.path.join(folder, f'valkey-{name}'))
    return folder


def exec_probe(container, probe, env, local_port):
    """Runs an exec probe of the manifest; its port (the manifest's) is where the server listens here."""
    port = str(container['ports'][0]['containerPort'])
    command = [part.replace(f'-p {port}', f'-p {local_port}') for part in container[probe]['exec']['command']]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=10).returncode == 0


@pytest.fixture(scope='module')
def standalone(services, endpoints, valkey_shim):
    objects = k8s.load_objects('feast-standalone.json')
    secrets = {endpoints['feast']['redisSecretName']: {'password': 'in-cluster-redis-password'}}
    redis_set = next(o for o in objects if o['kind'] == 'StatefulSet')
    spec = pods.pod_spec(redis_set)
    mounts = pods.volume_folders(spec)
    container = spec['containers'][0]

    def run_redis():
        return pods.run_server(spec, secrets, 60, bin_dirs=[valkey_shim], extra_args=['--bind', '127.0.0.1'], mounts=mounts,
                               ready=lambda port, env: exec_probe(container, 'readinessProbe', env, port), name='redis')
    return objects, secrets, run_redis, mounts


def test_in_cluster_redis_requires_its_password_and_keeps_data_across_restarts(standalone, services, endpoints, bucket):
    objects, secrets, run_redis, mounts = standalone
    frame = source_rows(1000, seed=3)
    upload_parquet(services, bucket, 'standalone/driver_stats.parquet', frame)
    with run_redis() as redis:
        plain = subprocess.run(['redis-cli', '-p', str(redis.local_port), 'ping'], capture_output=True, text=True, timeout=10)
        assert 'NOAUTH' in plain.stdout + plain.stderr
        text = next(o for o in objects if o['kind'] == 'ConfigMap' and o['metadata']['name'].startswith('feast'))['data']['feature_store.yaml']
        assert endpoints['feast']['redisEndpoint'] in text
        # Off EKS there is no Pod Identity: the user gives the pods S3 credentials of their own. Here
        # those of a user that may use the standalone prefix and nothing else (not the stack's roles,
        # which these ServiceAccount names would otherwise pick).
        keys = services['identities'].user('feast-standalone', [{'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': 's3:ListBucket', 'Resource': f'arn:aws:s3:::{bucket}'},
            {'Effect': 'Allow', 'Action': ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], 'Resource': f'arn:aws:s3:::{bucket}/standalone/*'}]}])
        deployment = Deployment(objects, secrets, keys, text.replace(endpoints['feast']['redisEndpoint'], f'127.0.0.1:{redis.local_port}'))
        deployment.apply(repository(f's3://{bucket}/standalone/driver_stats.parquet'))
        run = deployment.materialize()
        assert run.returncode == 0, run.output[-3000:]
        with deployment.serve() as server:
            assert_served_equal_source(server, frame, [0, 999])
    assert os.listdir(os.path.join(mounts['data'], 'appendonlydir'))
    # A new pod on the same claim: the append-only file brings every feature back.
    with run_redis() as redis:
        env = {'REDISCLI_AUTH': secrets[endpoints['feast']['redisSecretName']]['password'], 'PATH': '/usr/bin:/bin'}
        size = subprocess.run(['redis-cli', '-p', str(redis.local_port), 'dbsize'], env=env, capture_output=True, text=True, timeout=10)
        assert int(size.stdout.strip()) == 1000
