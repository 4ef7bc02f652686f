"""The real KServe v0.20.0 manager (controller and webhooks) against a real kube-apiserver.

What a deploy does, minus the nodes: KServe's three releases as the stack renders them, the
manager built from the Go module proxy (scripts/contract/kserve-build.sh), its six webhook
configurations pointed at it, and kube-controller-manager's deployment, replicaset and
garbage-collector controllers, so an InferenceService becomes a Deployment, Service (and HPA),
and its ReplicaSet creates pods that KServe's pod webhook mutates (storage initializer, agent) and
Pod Security admission checks. No scheduler or kubelet: the pods stay Pending, which is enough for
admission; the runtime tests run their containers' args and env on this machine.

The manager's webhook server listens on every interface (KServe passes controller-runtime only a
port), so etcd, the API server, the controller managers and the manager all run in a network
namespace of their own that has nothing but loopback: nothing of it is reachable from outside,
and it reaches nothing outside.

Substitutions: the webhook configurations name `https://127.0.0.1:9443<path>` with our own CA
instead of the chart's Service with cert-manager's CA (cert-manager does not run here), and the
manager runs as a process with a token of the chart's ServiceAccount, so the chart's RBAC is what
it is allowed.
"""
import base64
import contextlib
import copy
import json
import os
import subprocess
import tempfile
import time
import uuid

from apiserver import local_apiserver

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = 'v0.20.0'
MANAGER_BIN = os.path.join(ROOT, '.tools', f'kserve-manager-{RELEASE}')
NAMESPACE = 'kserve'
WEBHOOK_PORT = 9443
HEALTH_PORT = 18081
METRICS_PORT = 18080
CONTROLLERS = ['clusterrole-aggregation', 'deployment-controller', 'replicaset-controller', 'garbage-collector-controller',
               'horizontal-pod-autoscaler-controller']
WEBHOOK_KINDS = {'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'}
# cert-manager does not run here: the webhook's certificate is ours.
CERT_MANAGER_KINDS = {'Certificate', 'Issuer'}


@contextlib.contextmanager
def network_namespace():
    """A network namespace with only loopback, deleted afterwards (needs root, as in CI)."""
    name = f'cdk-mlops-kserve-{uuid.uuid4().hex[:8]}'
    subprocess.run(['ip', 'netns', 'add', name], check=True, capture_output=True)
    try:
        subprocess.run(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], check=True, capture_output=True)
        yield ['ip', 'netns', 'exec', name]
    finally:
        subprocess.run(['ip', 'netns', 'delete', name], capture_output=True)


def serving_certificate(folder):
    """An EC P-256 CA and a server certificate for 127.0.0.1 where controller-runtime looks for them."""
    certs = os.path.join(folder, 'k8s-webhook-server', 'serving-certs')
    os.makedirs(certs)
    ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True, cwd=certs)  # noqa: E731
    run('openssl', 'req', '-x509', *ec, '-days', '2', '-subj', '/CN=contract-kserve-webhook-ca', '-keyout', 'ca.key', '-out', 'ca.crt')
    run('openssl', 'req', *ec, '-subj', '/CN=kserve-webhook', '-keyout', 'tls.key', '-out', 'tls.csr')
    with open(os.path.join(certs, 'san.cnf'), 'w') as f:
        f.write('subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n')
    run('openssl', 'x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
        '-extfile', 'san.cnf', '-out', 'tls.crt')
    return open(os.path.join(certs, 'ca.crt'), 'rb').read()


def served_here(webhook_configuration, ca_bundle):
    """The chart's webhook configuration, calling the manager on loopback instead of its Service."""
    hook = copy.deepcopy(webhook_configuration)
    annotations = hook['metadata'].get('annotations') or {}
    annotations.pop('cert-manager.io/inject-ca-from', None)
    for webhook in hook['webhooks']:
        path = webhook['clientConfig']['service'].get('path', '/')
        webhook['clientConfig'] = {'url': f'https://127.0.0.1:{WEBHOOK_PORT}{path}', 'caBundle': base64.b64encode(ca_bundle).decode()}
    return hook


class KServeCluster:
    """A running API server with KServe's manager; `deploy` applies objects as the stack does."""

    def __init__(self, api, manager_log, timings):
        self.api = api
        self.manager_log = manager_log
        self.timings = timings

    def get(self, *args):
        result = self.api.kubectl('get', *args, '-o', 'json')
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def create_namespaces(self, objects, template=None):
        """The objects' own Namespaces, then any other namespace they use, labelled like `template`."""
        own = [o for o in objects if o['kind'] == 'Namespace']
        declared = {n['metadata']['name'] for n in own}
        labels = (template or {}).get('metadata', {}).get('labels', {})
        # Only namespaces that are not there yet: applying one again under the stack's field manager
        # without its labels would take its Pod Security labels away.
        existing = {n['metadata']['name'] for n in self.get('namespaces')['items']}
        missing = sorted({o['metadata']['namespace'] for o in objects if o['metadata'].get('namespace')} - declared - existing)
        extra = [{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': n, 'labels': labels}} for n in missing]
        self.api.apply(own + extra)

    def deploy(self, objects, template=None):
        """Applies the objects after the controller, as the stack's models manifest is."""
        self.create_namespaces(objects, template)
        self.api.apply([o for o in objects if o['kind'] != 'Namespace'])

    def apply_result(self, objects):
        """kubectl's answer to applying `objects`, for the refusals."""
        return self.api.kubectl('apply', '--server-side', '--field-manager', 'cdk-mlops-stack', objects=objects)

    def wait_for_pods(self, namespace, isvc, count, timeout=120):
        """The InferenceService's pods (canary included), once the ReplicaSets made `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.get('pods', '-n', namespace, '-l', f'serving.kserve.io/inferenceservice={isvc}')['items']
            if len(pods) >= count:
                return pods
            if time.monotonic() > deadline:
                events = self.api.kubectl('get', 'events', '-n', namespace).stdout
                raise AssertionError(f'{namespace}/{isvc}: {len(pods)} of {count} pods after {timeout} s\n{events[-4000:]}\n'
                                     f'manager log:\n{open(self.manager_log).read()[-4000:]}')
            time.sleep(0.2)

    def replica_failures(self, namespace, selector=None):
        """What the ReplicaSets of `namespace` could not create (their ReplicaFailure conditions)."""
        replica_sets = self.get('replicasets', '-n', namespace, *(['-l', selector] if selector else []))['items']
        return [c['message'] for r in replica_sets for c in r.get('status', {}).get('conditions', []) if c['reason'] == 'FailedCreate']


def _start_manager(prefix, api, folder):
    token = api.kubectl('-n', NAMESPACE, 'create', 'token', 'kserve-controller-manager', '--duration', '2h')
    assert token.returncode == 0, token.stderr
    admin = api.kubectl('config', 'view', '--raw', '--minify', '-o', 'json')
    cluster = json.loads(admin.stdout)['clusters'][0]['cluster']
    kubeconfig = os.path.join(folder, 'manager.kubeconfig')
    with open(kubeconfig, 'w') as f:
        json.dump({'apiVersion': 'v1', 'kind': 'Config', 'clusters': [{'name': 'local', 'cluster': cluster}],
                   'users': [{'name': 'kserve', 'user': {'token': token.stdout.strip()}}],
                   'contexts': [{'name': 'local', 'context': {'cluster': 'local', 'user': 'kserve'}}], 'current-context': 'local'}, f)
    os.chmod(kubeconfig, 0o600)
    log = os.path.join(folder, 'manager.log')
    env = {'PATH': '/usr/bin:/bin', 'HOME': folder, 'TMPDIR': folder, 'KUBECONFIG': kubeconfig, 'POD_NAMESPACE': NAMESPACE}
    proc = subprocess.Popen([*prefix, MANAGER_BIN, f'--metrics-addr=127.0.0.1:{METRICS_PORT}', f'--health-probe-addr=127.0.0.1:{HEALTH_PORT}',
                             f'--webhook-port={WEBHOOK_PORT}', '--leader-elect=false'],
                            env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        ready = subprocess.run([*prefix, 'curl', '-s', '--max-time', '2', f'http://127.0.0.1:{HEALTH_PORT}/readyz'], capture_output=True, text=True)
        if ready.stdout.strip() == 'ok':
            return proc, log
        assert proc.poll() is None, f'the KServe manager exited:\n{open(log).read()[-4000:]}'
        assert time.monotonic() < deadline, f'the KServe manager is not ready:\n{open(log).read()[-4000:]}'
        time.sleep(0.2)


@contextlib.contextmanager
def kserve_cluster(releases, namespaces):
    """KServe installed from its rendered releases into the stack's `namespaces`, its manager running."""
    assert os.path.exists(MANAGER_BIN), f'{MANAGER_BIN} is missing: scripts/contract/setup.sh builds it'
    folder = tempfile.mkdtemp(prefix='contract-kserve-manager-')
    timings = {}
    with network_namespace() as prefix, local_apiserver(prefix, CONTROLLERS) as api:
        timings['apiserver'] = api.started_seconds
        started = time.monotonic()
        api.apply(namespaces)
        crds = [o for o in releases if o['kind'] == 'CustomResourceDefinition']
        assert len(crds) == 6, [c['metadata']['name'] for c in crds]
        api.apply_crds_first(crds)
        timings['crds'] = time.monotonic() - started
        # The releases' objects but the manager's own Deployment (it runs as a process here), the
        # webhooks (they go in once it serves) and cert-manager's.
        skipped = WEBHOOK_KINDS | CERT_MANAGER_KINDS | {'CustomResourceDefinition'}
        api.apply([o for o in releases if o['kind'] not in skipped
                   and not (o['kind'] == 'Deployment' and o['metadata']['name'] == 'kserve-controller-manager')])
        ca_bundle = serving_certificate(folder)
        started = time.monotonic()
        proc, log = _start_manager(prefix, api, folder)
        timings['manager'] = time.monotonic() - started
        try:
            hooks = [served_here(o, ca_bundle) for o in releases if o['kind'] in WEBHOOK_KINDS]
            assert len(hooks) == 6, [h['metadata']['name'] for h in hooks]
            api.apply(hooks, webhooks_served=True)
            yield KServeCluster(api, log, timings)
        finally:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
