"""Access control on a real API server: what a namespace editor can do to the secret path.

The External Secrets chart's RBAC, rendered with the stack's values, is applied with everything
else, and kube-controller-manager's clusterrole-aggregation controller folds it into the built-in
view/edit/admin roles as on EKS. A user bound to `edit` in a tenant namespace then tries what an
attacker with that right would: create a SecretStore (which, without auth, runs with the operator's
identity). The admission policy is tried as cluster admin, who can create anything RBAC allows.
"""
import copy
import json
import time

import pytest

import k8s
from apiserver import local_apiserver
from conftest import report

TENANT = 'team-a'


def _wait(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.5)


@pytest.fixture(scope='module')
def rendered():
    return k8s.load_objects('apiserver.json')


@pytest.fixture(scope='module')
def cluster(rendered):
    with local_apiserver() as api:
        api.install_crds()
        production = rendered['profiles']['production']
        objects = production['manifests'] + production['charts']
        namespaces = [o for o in objects if o['kind'] == 'Namespace']
        labels = namespaces[0]['metadata']['labels']
        declared = {n['metadata']['name'] for n in namespaces}
        extra = sorted({o['metadata']['namespace'] for o in objects if o['metadata'].get('namespace')} - declared)
        api.apply(namespaces + [{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': n, 'labels': labels}}
                                for n in extra + [TENANT]])
        api.apply([o for o in api.apply_crds_first(objects) if o['kind'] != 'Namespace'])
        # A team given the built-in edit role in its own namespace, as the Kubernetes docs suggest.
        api.apply([{'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'RoleBinding',
                    'metadata': {'name': 'team-a-editors', 'namespace': TENANT},
                    'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': 'edit'},
                    'subjects': [{'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'User', 'name': 'editor'}]}])
        # The chart's view role has been folded in: aggregation works here, so a "no" below is RBAC's answer.
        _wait(lambda: 'externalsecrets' in api.kubectl('get', 'clusterrole', 'view', '-o', 'json').stdout,
              'the ESO view rules to be aggregated into view')
        yield api


def can_i(api, verb, resource):
    result = api.kubectl('auth', 'can-i', verb, resource, '-n', TENANT, context='editor')
    return result.stdout.strip()


def aws_store(with_auth):
    aws = {'service': 'SecretsManager', 'region': 'us-east-1'}
    if with_auth:
        aws['auth'] = {'secretRef': {'accessKeyIDSecretRef': {'name': 'team-a-aws', 'key': 'id'},
                                     'secretAccessKeySecretRef': {'name': 'team-a-aws', 'key': 'secret'}}}
    return {'apiVersion': 'external-secrets.io/v1', 'kind': 'SecretStore',
            'metadata': {'name': 'borrowed' if not with_auth else 'own', 'namespace': TENANT},
            'spec': {'provider': {'aws': aws}}}


def test_an_editor_in_another_namespace_cannot_create_a_secret_store(cluster):
    assert can_i(cluster, 'create', 'configmaps') == 'yes'  # the binding itself works
    assert can_i(cluster, 'get', 'externalsecrets.external-secrets.io') == 'yes'  # view aggregated
    for resource in ('secretstores', 'externalsecrets'):
        assert can_i(cluster, 'create', f'{resource}.external-secrets.io') == 'no', resource
    result = cluster.kubectl('create', context='editor', objects=[aws_store(with_auth=True)])
    assert result.returncode != 0
    assert 'forbidden' in result.stderr.lower(), result.stderr


def test_with_the_chart_defaults_the_same_editor_could(cluster, rendered):
    """The check above can fail: the chart's default aggregation is what the stack shipped before."""
    roles = rendered['esoDefaultAggregatedRoles']
    assert roles
    cluster.apply(roles)
    try:
        _wait(lambda: can_i(cluster, 'create', 'secretstores.external-secrets.io') == 'yes', 'aggregation of the chart defaults')
    finally:
        result = cluster.kubectl('delete', 'clusterrole', *[r['metadata']['name'] for r in roles])
        assert result.returncode == 0, result.stderr
    _wait(lambda: can_i(cluster, 'create', 'secretstores.external-secrets.io') == 'no', 'the aggregated rule to go')


def test_a_namespaced_aws_store_without_auth_is_refused_at_admission(cluster):
    started = time.monotonic()

    def refused():
        result = cluster.kubectl('create', '--dry-run=server', objects=[aws_store(with_auth=False)])
        return result.returncode != 0 and 'spec.provider.aws.auth' in result.stderr

    # A new policy is compiled and takes effect within seconds of being stored.
    _wait(refused, 'the admission policy to refuse the store')
    report(f'SecretStore admission policy: in force {time.monotonic() - started:.1f} s after the first try')
    result = cluster.kubectl('create', '--dry-run=server', objects=[aws_store(with_auth=False)])
    assert 'ValidatingAdmissionPolicy' in result.stderr and 'denied request' in result.stderr, result.stderr
    # Not a blanket refusal: a store with its own credentials passes the same policy.
    accepted = cluster.kubectl('create', '--dry-run=server', objects=[aws_store(with_auth=True)])
    assert accepted.returncode == 0, accepted.stderr


def test_the_cluster_secret_store_itself_is_not_subject_to_the_policy(cluster, rendered):
    store = copy.deepcopy(next(o for o in rendered['profiles']['production']['manifests'] if o['kind'] == 'ClusterSecretStore'))
    got = json.loads(cluster.kubectl('get', 'clustersecretstore', store['metadata']['name'], '-o', 'json').stdout)
    assert 'auth' not in got['spec']['provider']['aws']


def test_a_namespace_cannot_claim_another_namespace_s_name_label(cluster):
    """The NetworkPolicies admit clients by kubernetes.io/metadata.name; only the API server sets it."""
    forged = {'apiVersion': 'v1', 'kind': 'Namespace',
              'metadata': {'name': 'forged', 'labels': {'kubernetes.io/metadata.name': 'mlflow'}}}
    cluster.apply([forged])
    got = json.loads(cluster.kubectl('get', 'namespace', 'forged', '-o', 'json').stdout)
    assert got['metadata']['labels']['kubernetes.io/metadata.name'] == 'forged'


def service_account_can(api, account, verb, resource, subresource=None, namespace='dagster', home='dagster'):
    args = ['auth', 'can-i', verb, resource, '-n', namespace, '--as', f'system:serviceaccount:{home}:{account}']
    result = api.kubectl(*args, *(['--subresource', subresource] if subresource else []))
    assert result.stdout.strip() in ('yes', 'no'), result.stderr
    return result.stdout.strip() == 'yes'


# What dagster-k8s's client calls on the run launcher's path (constructs/dagster/dagster.ts names each):
# the daemon launches and monitors, the webserver terminates and shows debug info.
LAUNCH_CALLS = [('create', 'jobs.batch', None), ('get', 'jobs.batch', 'status')]
TERMINATE_AND_DEBUG_CALLS = [('list', 'jobs.batch', None), ('delete', 'jobs.batch', None), ('list', 'pods', None), ('delete', 'pods', None),
                             ('get', 'pods', 'log'), ('list', 'events', None)]
LAUNCHER_CALLS = LAUNCH_CALLS + TERMINATE_AND_DEBUG_CALLS
NOT_NEEDED = [('get', 'secrets', None), ('list', 'secrets', None), ('create', 'pods', None), ('get', 'pods', None),
              ('update', 'jobs.batch', None), ('patch', 'jobs.batch', None), ('watch', 'jobs.batch', None),
              ('create', 'pods', 'exec'), ('create', 'rolebindings.rbac.authorization.k8s.io', None)]


def allowed(api, account, calls, **where):
    return [service_account_can(api, account, *call, **where) for call in calls]


def test_dagster_s_daemon_launches_runs_and_the_webserver_only_terminates_and_debugs_them(cluster):
    assert allowed(cluster, 'dagster-daemon', LAUNCHER_CALLS) == [True] * len(LAUNCHER_CALLS)
    # With the QueuedRunCoordinator the webserver queues a run; creating its Job is the daemon's.
    assert allowed(cluster, 'dagster-webserver', LAUNCH_CALLS) == [False] * len(LAUNCH_CALLS)
    assert allowed(cluster, 'dagster-webserver', TERMINATE_AND_DEBUG_CALLS) == [True] * len(TERMINATE_AND_DEBUG_CALLS)
    for account in ('dagster-daemon', 'dagster-webserver'):
        assert allowed(cluster, account, NOT_NEEDED) == [False] * len(NOT_NEEDED), account
        # Only in Dagster's own namespace.
        assert not service_account_can(cluster, account, 'delete', 'jobs.batch', namespace='mlflow')
    # Run pods and code servers call no API: nothing is bound to them.
    for account in ('dagster-run', 'dagster-code'):
        assert allowed(cluster, account, LAUNCHER_CALLS) == [False] * len(LAUNCHER_CALLS), account


def test_the_read_only_webserver_runs_as_an_account_bound_to_nothing(cluster, rendered):
    """The standalone example's Dagster (a read-only webserver for its client namespaces), applied beside the stack."""
    objects = [o for o in rendered['standalone'] if o['kind'] in ('ServiceAccount', 'Role', 'RoleBinding')
               and o['metadata'].get('namespace') == 'orchestration' and o['metadata']['name'].startswith('dagster')]
    cluster.apply([{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'orchestration'}}, *objects])
    [read_only] = [o for o in rendered['standalone'] if o['kind'] == 'Deployment' and o['metadata']['name'] == 'dagster-read-only']
    account = read_only['spec']['template']['spec']['serviceAccountName']
    assert account == 'dagster-read-only'
    where = {'namespace': 'orchestration', 'home': 'orchestration'}
    assert allowed(cluster, account, LAUNCHER_CALLS, **where) == [False] * len(LAUNCHER_CALLS)
    assert allowed(cluster, 'dagster-daemon', LAUNCH_CALLS, **where) == [True] * len(LAUNCH_CALLS)
