"""Dagster contract: the real Dagster (the pinned release, from PyPI, in .venv-dagster) runs the
synthesized Dagster objects against Debian's PostgreSQL and the S3 emulator.

Substitutions, besides the pod runner's: the code location's image is this test's own code (on
PYTHONPATH); cluster DNS is substituted in workspace.yaml (the code server's Service name becomes
its local address); and, to run a job without a cluster, the daemon's K8sRunLauncher is swapped for
Dagster's DefaultRunLauncher, which runs the job in the code server's process tree. The code server
then gets what a run pod gets from the launcher (`env_secrets`: the database Secret). The
K8sRunLauncher section itself is checked by Dagster's own schema and by building, with dagster-k8s,
the Job it would create, which the real kube-apiserver admits under Pod Security "restricted".
"""
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import pytest
import requests
import yaml

import eso
import identity
import k8s
import pods
from apiserver import local_apiserver
from conftest import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAGSTER_BIN = os.path.join(ROOT, '.venv-dagster', 'bin')
INSTANCE_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dagster_instance.py')

CODE = '''
import dagster as dg

@dg.op
def greet(context):
    print("hello from the contract test")
    context.log.info("greeted")
    return 1

@dg.job
def hello():
    greet()

defs = dg.Definitions(jobs=[hello])
'''

LAUNCH = '''mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
  }
}'''
RUN = 'query Run($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }'
LOCATIONS = '{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus } } } }'


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('dagster.json')


def named(objects, kind, name):
    return next(o for o in objects if o['kind'] == kind and o['metadata']['name'] == name)


@pytest.fixture(scope='module')
def secrets(services, endpoints):
    """The two database Secrets for an RDS-like database, rendered from the reference stack's own
    ExternalSecrets (Go's text/template, as External Secrets renders them): the server role's
    credentials from its secret, the endpoint from the master secret."""
    master = services['create_rds_database']('dagster')
    stack = k8s.load_objects('stack.json')
    uri_secret = eso.external_secret(stack, endpoints['dagster']['secretName'])
    data = {'username': 'dagster_server', 'password': 'Dagster-server_pass-1', **eso.copied_keys(uri_secret, master)}
    rendered = {key: eso.render(template, data) for key, template in uri_secret['spec']['target']['template']['data'].items()}
    admin = eso.copied_keys(eso.external_secret(stack, endpoints['dagster']['adminSecretName']), master)
    return {endpoints['dagster']['secretName']: rendered, endpoints['dagster']['adminSecretName']: admin,
            # The demo location's own Secret (its envSecretNames).
            'dagster-demo-env': {'DEMO_TOKEN': 'not-a-real-token'}}


def test_the_stack_s_secret_has_every_variable_dagster_yaml_names(secrets, endpoints):
    values = secrets[endpoints['dagster']['secretName']]
    assert sorted(values) == ['DAGSTER_PG_DB', 'DAGSTER_PG_HOST', 'DAGSTER_PG_PASSWORD', 'DAGSTER_PG_PORT', 'DAGSTER_PG_URI', 'DAGSTER_PG_USERNAME']
    assert values['DAGSTER_PG_URI'].startswith('postgresql://dagster_server:Dagster-server_pass-1@127.0.0.1:')
    assert values['DAGSTER_PG_URI'].endswith('/dagster?sslmode=require')


@pytest.fixture(scope='module')
def configmaps(objects):
    return {o['metadata']['name']: dict(o['data']) for o in objects if o['kind'] == 'ConfigMap'}


def instance_tool(configmaps, secrets, *args, text=None):
    """The instance tool with the environment the daemon's container has from the database Secret."""
    home = tempfile.mkdtemp(prefix='contract-dagster-home-')
    with open(os.path.join(home, 'dagster.yaml'), 'w') as f:
        f.write(text if text is not None else configmaps['dagster-instance']['dagster.yaml'])
    env = {'PATH': f'{DAGSTER_BIN}:/usr/bin:/bin', 'LANG': 'C.UTF-8', **secrets['dagster-db']}
    return subprocess.run([os.path.join(DAGSTER_BIN, 'python'), INSTANCE_TOOL, args[0], home, *args[1:]],
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_instance_validates_against_dagster_s_own_schemas(configmaps, secrets):
    result = instance_tool(configmaps, secrets, 'validate')
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {'run_coordinator': 'QueuedRunCoordinator', 'run_launcher': 'K8sRunLauncher',
                                         'compute_logs': 'S3ComputeLogManager', 'storage': 'postgres'}


@pytest.mark.parametrize('old,new', [('max_concurrent_runs', 'max_concurent_runs'), ('job_namespace', 'jobs_namespace'),
                                     ('skip_empty_files', 'skip_empty_file')])
def test_a_wrong_key_in_the_rendered_yaml_fails_validation(configmaps, secrets, old, new):
    text = configmaps['dagster-instance']['dagster.yaml']
    assert old in text
    result = instance_tool(configmaps, secrets, 'validate', text=text.replace(old, new))
    assert result.returncode != 0
    assert new in result.stdout + result.stderr


def test_run_pods_dagster_k8s_would_create_meet_pod_security_restricted(configmaps, secrets, endpoints):
    result = instance_tool(configmaps, secrets, 'run-job', endpoints['dagster']['location']['image'])
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    pod = job['spec']['template']['spec']
    assert pod['serviceAccountName'] == 'dagster-run' and pod['automountServiceAccountToken'] is False
    assert pod['containers'][0]['securityContext']['readOnlyRootFilesystem'] is True
    namespace = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': endpoints['dagster']['namespace'], 'labels': {
        f'pod-security.kubernetes.io/{mode}': 'restricted' for mode in ('enforce', 'warn', 'audit')}}}
    with local_apiserver() as api:
        api.apply([namespace])
        # Warnings are errors: a Pod Security "restricted" violation would fail the apply.
        applied = api.kubectl('apply', '--server-side', '--dry-run=server', '--field-manager', 'dagster', objects=[job])
        assert applied.returncode == 0, applied.stderr
        # The control: the same Job without the launcher's container security context is refused.
        insecure = json.loads(result.stdout)
        del insecure['spec']['template']['spec']['containers'][0]['securityContext']
        refused = api.kubectl('apply', '--server-side', '--dry-run=server', '--field-manager', 'dagster', objects=[insecure])
        assert refused.returncode != 0 and 'restricted' in refused.stderr


def test_runs_and_servers_keep_local_artifacts_on_their_scratch_volume(configmaps, secrets, endpoints, objects):
    """Every Dagster pod has a read-only root and its instance ConfigMap mounted read-only at
    DAGSTER_HOME; Dagster puts local artifacts (the default fs_io_manager's outputs) where its own
    instance reference says, which must be a writable mount of each pod."""
    job = json.loads(instance_tool(configmaps, secrets, 'run-job', endpoints['dagster']['location']['image']).stdout)
    pods = [('run', job['spec']['template']['spec'])] + [
        (o['metadata']['name'], o['spec']['template']['spec']) for o in objects if o['kind'] == 'Deployment']
    homes = [(name, pod, pod['containers'][0], [e['value'] for e in pod['containers'][0].get('env', []) if e['name'] == 'DAGSTER_HOME'])
             for name, pod in pods]
    assert {name for name, _, _, home in homes if home} >= {'run', 'dagster-webserver', 'dagster-daemon'}
    for name, pod, container, home in homes:
        if not home:
            continue
        home = home[0]
        result = instance_tool(configmaps, secrets, 'storage-dir', home)
        assert result.returncode == 0, result.stderr
        where = json.loads(result.stdout)['storage_dir']
        writable = {v['name'] for v in pod['volumes'] if 'emptyDir' in v}
        mounts = [m['mountPath'] for m in container['volumeMounts'] if m['name'] in writable and not m.get('readOnly')]
        assert container['securityContext']['readOnlyRootFilesystem'] is True, name
        assert any(where.startswith(m.rstrip('/') + '/') for m in mounts), (name, where, mounts)


def with_local_launcher(configmaps):
    """dagster.yaml with DefaultRunLauncher instead of K8sRunLauncher, which needs the in-cluster
    API config (a ServiceAccount token at its fixed path) as soon as the instance is built."""
    text = configmaps['dagster-instance']['dagster.yaml']
    start, end = text.index('run_launcher:'), text.index('compute_logs:')
    local = text[:start] + 'run_launcher:\n  module: dagster._core.launcher\n  class: DefaultRunLauncher\n' + text[end:]
    return {**configmaps, 'dagster-instance': {'dagster.yaml': local}}


# What a run's dagster-k8s/config tag may not change about its pod (findings of the access review).
REFUSED_RUN_CONFIG = {
    'another ServiceAccount': {'pod_spec_config': {'service_account_name': 'dagster-daemon'}},
    'the API token mounted': {'pod_spec_config': {'automount_service_account_token': True}},
    'another image': {'container_config': {'image': 'attacker/image:1'}},
    'another command': {'container_config': {'command': ['sh', '-c', 'id']}},
    'the admin Secret': {'container_config': {'env_from': [{'secret_ref': {'name': 'dagster-db-admin'}}]}},
    'an env var': {'container_config': {'env': [{'name': 'DAGSTER_PG_PASSWORD', 'value': 'x'}]}},
}


def test_a_run_s_tags_set_its_resources_and_nothing_else_of_its_pod(configmaps, secrets, endpoints):
    """Runs launched through the real K8sRunLauncher of the rendered dagster.yaml, against the real
    API server: the tag that would pick the pod's identity, image, command or Secrets is refused
    before any Job exists; resources are taken; the location's environment comes from the launcher."""
    image = endpoints['dagster']['location']['image']
    namespace = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': endpoints['dagster']['namespace']}}

    def launch(api, config):
        result = instance_tool(configmaps, secrets, 'launch', image, api.kubeconfig, json.dumps({'dagster-k8s/config': json.dumps(config)}))
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    with local_apiserver() as api:
        api.apply([namespace])
        for what, config in REFUSED_RUN_CONFIG.items():
            launched = launch(api, config)
            assert 'violated the allowed list' in launched.get('refused', ''), (what, launched)
        launched = launch(api, {'container_config': {'resources': {'limits': {'memory': '1Gi'}}}})
        assert 'job' in launched, launched
        pod = launched['job']['spec']['template']['spec']
        [container] = pod['containers']
        assert container['resources']['limits']['memory'] == '1Gi'
        assert pod['serviceAccountName'] == 'dagster-run' and pod['automountServiceAccountToken'] is False
        assert container['image'] == image
        assert {e['secretRef']['name'] for e in container['envFrom']} == {'dagster-db', *endpoints['dagster']['location']['envSecretNames']}
        env = {e['name']: e.get('value') for e in container['env']}
        assert all(env.get(k) == v for k, v in endpoints['dagster']['location']['env'].items()), env


@pytest.fixture(scope='module')
def migrated(objects, secrets, configmaps):
    """db-bootstrap (the daemon's init container), then `dagster instance migrate` in the daemon's container."""
    spec = pods.pod_spec(named(objects, 'Deployment', 'dagster-daemon'))
    mounts = pods.volume_folders(spec, with_local_launcher(configmaps))
    pods.run_init_containers(spec, secrets, mounts, bin_dirs=[DAGSTER_BIN])
    container = spec['containers'][0]
    env = pods.process_env(spec, container, secrets, mounts, [DAGSTER_BIN])
    started = time.monotonic()
    result = subprocess.run(['dagster', 'instance', 'migrate'], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report(f'dagster instance migrate (empty database, as dagster_server): {time.monotonic() - started:.1f} s')
    return spec, mounts


@pytest.fixture(scope='module')
def code_server(objects, secrets):
    folder = tempfile.mkdtemp(prefix='contract-dagster-code-')
    with open(os.path.join(folder, 'contract_dagster_demo.py'), 'w') as f:
        f.write(CODE)
    deployment = named(objects, 'Deployment', 'dagster-demo')
    spec = pods.pod_spec(deployment)
    container = spec['containers'][0]
    # What the run pod would get from the launcher's env_secrets and, through EKS Pod Identity, from
    # the launcher's ServiceAccount, for the runs this process starts (the code server's own role
    # does not reach the compute logs: the run's does).
    launcher = yaml.safe_load(named(objects, 'ConfigMap', 'dagster-instance')['data']['dagster.yaml'])['run_launcher']['config']
    run_env = {**secrets['dagster-db'], **identity.pod_env(launcher['job_namespace'], launcher['service_account_name']), 'PYTHONPATH': folder}

    def healthy(port, env):
        command = [a.replace(str(container['ports'][0]['containerPort']), str(port)) for a in container['readinessProbe']['exec']['command']]
        return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
    with pods.run_server(spec, secrets, 180, bin_dirs=[DAGSTER_BIN], extra_env=run_env, ready=healthy, name='dagster-code') as running:
        report(f'dagster code server (dagster api grpc) start-to-ready: {running.start_to_ready_seconds:.1f} s')
        yield running


def workspace_here(configmaps, code_server):
    """workspace.yaml with the code server's Service name resolved to where it listens here."""
    text = configmaps['dagster-workspace']['workspace.yaml']
    assert 'host: dagster-demo\n' in text and 'port: 3030\n' in text
    return {**configmaps, 'dagster-workspace': {'workspace.yaml': text.replace('host: dagster-demo\n', 'host: 127.0.0.1\n')
                                                  .replace('port: 3030\n', f'port: {code_server.local_port}\n')}}


@pytest.fixture(scope='module')
def webserver(objects, secrets, configmaps, migrated, code_server):
    spec = pods.pod_spec(named(objects, 'Deployment', 'dagster-webserver'))
    maps = workspace_here(with_local_launcher(configmaps), code_server)
    with pods.run_server(spec, secrets, 240, maps, [DAGSTER_BIN], name='dagster-webserver') as running:
        report(f'dagster webserver start-to-ready (/server_info): {running.start_to_ready_seconds:.1f} s')
        yield running


def graphql(server, query, variables=None):
    response = requests.post(server.url('/graphql'), json={'query': query, 'variables': variables or {}}, timeout=60)
    assert response.status_code == 200, response.text[:500]
    return response.json()['data']


def test_the_webserver_answers_its_probe_quickly(webserver):
    path, _ = k8s.probe_path(webserver.container, 'readinessProbe')
    session = requests.Session()
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        assert session.get(webserver.url(path), timeout=10).status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    report(f'dagster webserver {path}, 200 requests: p50 {statistics.median(timings):.1f} ms, p99 {timings[197]:.1f} ms')


def test_the_webserver_lists_the_code_location_over_graphql(webserver):
    entries = graphql(webserver, LOCATIONS)['workspaceOrError']['locationEntries']
    assert [(e['name'], e['loadStatus']) for e in entries] == [('demo', 'LOADED')]


@pytest.fixture(scope='module')
def daemon(objects, secrets, configmaps, migrated, code_server):
    spec, _ = migrated
    maps = workspace_here(with_local_launcher(configmaps), code_server)
    spec = copy.deepcopy(spec)
    spec['initContainers'] = []
    with pods.run_server(spec, secrets, 120, maps, [DAGSTER_BIN], name='dagster-daemon',
                         ready=lambda port, env: True) as running:
        yield running


def test_a_queued_job_runs_to_success_and_its_compute_log_lands_on_s3(webserver, daemon, services, endpoints):
    bucket = endpoints['dagster']['bucket']
    services['s3'].create_bucket(Bucket=bucket)
    params = {'selector': {'repositoryLocationName': 'demo', 'repositoryName': '__repository__', 'jobName': 'hello'}, 'runConfigData': {}}
    started = time.monotonic()
    launched = graphql(webserver, LAUNCH, {'params': params})['launchRun']
    assert launched['__typename'] == 'LaunchRunSuccess', launched
    assert launched['run']['status'] == 'QUEUED'
    run_id = launched['run']['runId']
    status = None
    while time.monotonic() - started < 300:
        status = graphql(webserver, RUN, {'id': run_id})['runOrError']['status']
        if status in ('SUCCESS', 'FAILURE', 'CANCELED'):
            break
        time.sleep(0.5)
    assert status == 'SUCCESS'
    report(f'dagster job from queued to SUCCESS (dequeue every 5 s, max 1 concurrent run): {time.monotonic() - started:.1f} s')
    deadline = time.monotonic() + 60
    while True:
        keys = [o['Key'] for o in services['s3'].list_objects_v2(Bucket=bucket, Prefix='dagster/compute-logs/').get('Contents', [])]
        out = [k for k in keys if run_id in k and k.endswith('.out')]
        if out or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert out, keys
    body = services['s3'].get_object(Bucket=bucket, Key=out[0])['Body'].read().decode()
    assert 'hello from the contract test' in body
    report(f'dagster resident memory after the run: webserver {webserver.rss_mib():.0f} MiB, daemon {daemon.rss_mib():.0f} MiB')
