"""A real kube-apiserver + etcd on 127.0.0.1 (scripts/local-apiserver.sh), and kubectl against it."""
import contextlib
import glob
import json
import os
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(ROOT, 'scripts', 'local-apiserver.sh')
CRDS = os.path.join(ROOT, 'test', 'fixtures', 'crds')
# Stored, these make the API server call the webhook's Service for every matching request. No
# webhook runs here, and the API server must never dial out of this machine: they are validated
# with a server-side dry-run (schema, strict fields) and never stored.
WEBHOOK_KINDS = {'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService'}


class ApiServer:
    def __init__(self, kubeconfig, bin_dir, started_seconds, prefix=()):
        self.kubeconfig = kubeconfig
        # How a command reaches the server: nothing, or entering the network namespace it listens in.
        self.prefix = list(prefix)
        self.kubectl_path = os.path.join(bin_dir, 'kubectl')
        self.started_seconds = started_seconds

    def kubectl(self, *args, objects=None, context=None, timeout=600):
        """Runs kubectl with warnings as errors; `objects` go in as one List on stdin."""
        argv = [*self.prefix, self.kubectl_path, '--kubeconfig', self.kubeconfig, '--warnings-as-errors', '--request-timeout=300s']
        if context:
            argv += ['--context', context]
        data = json.dumps({'apiVersion': 'v1', 'kind': 'List', 'items': objects}) if objects is not None else None
        if data is not None:
            args = [*args, '-f', '-']
        return subprocess.run(argv + list(args), input=data, capture_output=True, text=True, timeout=timeout)

    def apply(self, objects, *extra, webhooks_served=False):
        """Server-side apply as the stack's field manager; raises with kubectl's output on failure.

        Webhook registrations only go through a dry-run (see WEBHOOK_KINDS), unless the caller serves
        them on this machine (`webhooks_served`).
        """
        hooks = [] if webhooks_served else [o for o in objects if o['kind'] in WEBHOOK_KINDS]
        stored = [o for o in objects if o not in hooks]
        for batch, flags in ((stored, ()), (hooks, ('--dry-run=server',))):
            if not batch:
                continue
            result = self.kubectl('apply', '--server-side', '--field-manager', 'cdk-mlops-stack', *flags, *extra,
                                  objects=batch)
            if result.returncode != 0:
                raise AssertionError(f'kubectl apply failed ({result.returncode}):\n{result.stderr[-6000:]}')

    def install_crds(self):
        files = sorted(glob.glob(os.path.join(CRDS, '*', '*.yaml')))
        result = self.kubectl('apply', '--server-side', *[a for f in files for a in ('-f', f)])
        assert result.returncode == 0, result.stderr
        self.wait_for_crds()
        return len(files)

    def apply_crds_first(self, objects):
        """Applies the CRDs among `objects` and waits until they serve, as the releases that install
        them (KServe's CRD chart, cert-manager's with crds.enabled) complete before the objects of
        their kinds are applied; returns the other objects."""
        crds = [o for o in objects if o['kind'] == 'CustomResourceDefinition']
        if crds:
            self.apply(crds)
            self.wait_for_crds()
        return [o for o in objects if o['kind'] != 'CustomResourceDefinition']

    def wait_for_crds(self):
        # `kubectl wait` fails instead of waiting while a new CRD has no status yet: retry it.
        deadline = time.monotonic() + 300
        while True:
            wait = self.kubectl('wait', '--for', 'condition=established', '--timeout=120s', 'crd', '--all')
            if wait.returncode == 0:
                # kubectl caches the API's discovery: refresh it, or the new kinds stay unknown to it.
                self.kubectl('api-resources')
                return
            if time.monotonic() > deadline:
                raise AssertionError(f'CRDs not established: {wait.stderr}')
            time.sleep(1)


def bin_dir():
    return subprocess.run(['bash', '-c', f'source "{SCRIPT}"; echo "$LAS_BIN"'], capture_output=True, text=True,
                          check=True).stdout.strip()


@contextlib.contextmanager
def local_apiserver(prefix=(), controllers=None):
    """Starts a fresh instance in its own folder; stops it and deletes the folder afterwards.

    `prefix` runs it, and every kubectl call, in a network namespace (`ip netns exec NAME`);
    `controllers` are kube-controller-manager's (LAS_CONTROLLERS)."""
    run = tempfile.mkdtemp(prefix='contract-apiserver-')
    env = {**os.environ, 'LAS_RUN': run, **({'LAS_CONTROLLERS': ','.join(controllers)} if controllers else {})}
    started = time.monotonic()
    result = subprocess.run([*prefix, 'bash', SCRIPT, 'start'], env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        subprocess.run([*prefix, 'bash', SCRIPT, 'stop'], env=env, capture_output=True)
        raise RuntimeError(f'local kube-apiserver did not start:\n{result.stderr[-4000:]}')
    try:
        yield ApiServer(result.stdout.strip().splitlines()[-1], bin_dir(), time.monotonic() - started, prefix)
    finally:
        subprocess.run([*prefix, 'bash', SCRIPT, 'stop'], env=env, capture_output=True, timeout=120)
