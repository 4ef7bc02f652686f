"""Deploy-time truth: every object the library emits, applied server-side to a real kube-apiserver.

The API server checks what a JSON schema cannot: strict fields of built-in kinds and CRDs, CRD CEL
rules, immutable fields on an upgrade, and Pod Security admission of every pod template (kubectl's
warnings are errors, so a Deployment that would break "restricted" fails here, not at rollout).
"""
import copy
import json
import time

import pytest

import k8s
from apiserver import local_apiserver
from conftest import report

ENFORCE = 'pod-security.kubernetes.io/enforce'


@pytest.fixture(scope='module')
def rendered():
    return k8s.load_objects('apiserver.json')


@pytest.fixture(scope='module')
def cluster():
    with local_apiserver() as api:
        report(f'kube-apiserver 1.35: up (certificates, etcd, /readyz ok) in {api.started_seconds:.1f} s')
        started = time.monotonic()
        count = api.install_crds()
        report(f'kube-apiserver: {count} CRDs installed and established in {time.monotonic() - started:.1f} s')
        yield api


def namespaces_of(objects):
    return [o for o in objects if o['kind'] == 'Namespace']


def create_namespaces(api, objects, template):
    """The objects' own Namespaces, then every other namespace they use, labelled like `template`."""
    own = namespaces_of(objects)
    declared = {n['metadata']['name'] for n in own}
    missing = sorted({o['metadata']['namespace'] for o in objects if o['metadata'].get('namespace')} - declared)
    extra = [{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': n, 'labels': template['metadata']['labels']}}
             for n in missing]
    api.apply(own + extra)


@pytest.fixture(scope='module')
def applied(cluster, rendered):
    """DEVELOPMENT applied, then PRODUCTION over it (the upgrade path), then the standalone charts."""
    timings = {}
    restricted = next(n for n in namespaces_of(rendered['profiles']['development']['manifests'])
                      if n['metadata']['name'] == 'mlflow')
    for profile in ('development', 'production'):
        objects = rendered['profiles'][profile]['manifests'] + rendered['profiles'][profile]['charts']
        started = time.monotonic()
        create_namespaces(cluster, objects, restricted)
        cluster.apply([o for o in cluster.apply_crds_first(objects) if o['kind'] != 'Namespace'])
        timings[profile] = (len(objects), time.monotonic() - started)
    standalone = rendered['standalone']
    started = time.monotonic()
    create_namespaces(cluster, standalone, restricted)
    cluster.apply([o for o in standalone if o['kind'] != 'Namespace'])
    timings['standalone'] = (len(standalone), time.monotonic() - started)
    for name, (count, seconds) in timings.items():
        report(f'kube-apiserver: server-side apply of {count} objects ({name}) in {seconds:.1f} s')
    return timings


def test_every_object_applies_and_upgrades_from_development_to_production(applied, rendered):
    assert applied['development'][0] == len(rendered['profiles']['development']['manifests']) + len(
        rendered['profiles']['development']['charts'])
    # The External Secrets chart's pods went through Pod Security admission with the rest.
    kinds = {o['kind'] for o in rendered['profiles']['production']['charts']}
    assert {'Deployment', 'ClusterRole', 'ValidatingWebhookConfiguration'} <= kinds


def test_objects_are_stored_as_rendered(cluster, applied, rendered):
    """A field the server dropped (pruned or defaulted away) would show up as a difference here."""
    mlflow = next(o for o in rendered['profiles']['production']['manifests'] if o['kind'] == 'Deployment')
    got = cluster.kubectl('get', 'deployment', mlflow['metadata']['name'], '-n', mlflow['metadata']['namespace'], '-o', 'json')
    assert got.returncode == 0, got.stderr
    stored = json.loads(got.stdout)
    assert stored['spec']['replicas'] == mlflow['spec']['replicas'] == 2
    assert stored['spec']['template']['spec']['securityContext'] == mlflow['spec']['template']['spec']['securityContext']
    ns = json.loads(cluster.kubectl('get', 'namespace', 'mlflow', '-o', 'json').stdout)
    assert ns['metadata']['labels'][ENFORCE] == 'restricted'


def _mlflow_deployment(rendered):
    return copy.deepcopy(next(o for o in rendered['profiles']['production']['manifests'] if o['kind'] == 'Deployment'))


def _store(rendered):
    return copy.deepcopy(next(o for o in rendered['profiles']['production']['manifests'] if o['kind'] == 'ClusterSecretStore'))


def _external_secret(rendered):
    return copy.deepcopy(next(o for o in rendered['profiles']['production']['manifests'] if o['kind'] == 'ExternalSecret'))


def _without_pod_security(rendered):
    deployment = _mlflow_deployment(rendered)
    del deployment['spec']['template']['spec']['securityContext']
    for container in deployment['spec']['template']['spec']['containers']:
        del container['securityContext']
    return deployment


def _reserved_session_tag(rendered):
    store = _store(rendered)
    store['spec']['provider']['aws']['customSessionTags'] = {'esoNamespace': 'other'}
    return store


def _new_selector(rendered):
    deployment = _mlflow_deployment(rendered)
    deployment['spec']['selector']['matchLabels']['app.kubernetes.io/instance'] = 'renamed'
    deployment['spec']['template']['metadata']['labels']['app.kubernetes.io/instance'] = 'renamed'
    return deployment


def _unknown_field(rendered):
    secret = _external_secret(rendered)
    secret['spec']['refreshIntervall'] = '2h'
    return secret


BROKEN = [
    ('a pod template that breaks Pod Security "restricted"', _without_pod_security, 'would violate PodSecurity "restricted:latest"'),
    ('a CEL rule of the ClusterSecretStore CRD', _reserved_session_tag, 'customSessionTags cannot contain automatically injected reserved keys'),
    ('an upgrade that changes an immutable field (Deployment selector)', _new_selector, 'field is immutable'),
    ('an unknown field in a custom resource', _unknown_field, 'field not declared in schema'),
]


@pytest.mark.parametrize('case,make,expected', BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_object_is_refused(cluster, applied, rendered, case, make, expected):
    # kubectl's own schema check is off, so the refusal is the API server's.
    result = cluster.kubectl('apply', '--server-side', '--field-manager', 'cdk-mlops-stack', '--dry-run=server',
                             '--validate=false', objects=[make(rendered)])
    assert result.returncode != 0, f'{case}: accepted'
    assert expected in result.stderr, result.stderr


def test_the_unbroken_originals_pass_the_same_dry_run(cluster, applied, rendered):
    """The broken cases fail because of their one change, not because of the dry-run itself."""
    result = cluster.kubectl('apply', '--server-side', '--field-manager', 'cdk-mlops-stack', '--dry-run=server',
                             objects=[_mlflow_deployment(rendered), _store(rendered), _external_secret(rendered)])
    assert result.returncode == 0, result.stderr


def _kinds(cluster, namespaced):
    result = cluster.kubectl('api-resources', f'--namespaced={str(namespaced).lower()}', '--no-headers')
    assert result.returncode == 0, result.stderr
    return {line.split()[-1] for line in result.stdout.splitlines() if line.strip()}


def test_the_clash_check_knows_which_kinds_have_no_namespace(cluster, applied, rendered):
    """The synth-time clash check ignores a stray namespace on cluster-scoped kinds; the server decides which."""
    ours = set(rendered['clusterScopedKinds'])
    cluster_scoped, namespaced = _kinds(cluster, False), _kinds(cluster, True)
    assert ours & namespaced == set()
    applied_kinds = {o['kind'] for p in rendered['profiles'].values() for o in p['manifests'] + p['charts']} | {
        o['kind'] for o in rendered['standalone']}
    assert applied_kinds & cluster_scoped <= ours
    assert len(ours & cluster_scoped) >= 10
