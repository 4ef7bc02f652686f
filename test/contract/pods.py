"""Runs containers of a synthesized pod spec on this machine, as the kubelet would run them.

Command, args and env are the manifest's. Each volume is a host folder shared by the pod's
containers (emptyDir, a configMap's listed keys, or a StatefulSet's volume claim), and its mount
path is rewritten to that folder. What the tests substitute, and nothing more: the values of
Secrets and ConfigMaps (the test supplies them), the listen address (127.0.0.1 instead of all
interfaces, on a free port; clients still address the manifest's port through `route`), the AWS
key pair EKS Pod Identity would inject (an IAM user of the emulator with exactly the policies of the
ServiceAccount's synthesized role: identity.py), and `bin_dirs`, the folders the image's
executables come from (the pinned release's virtualenv).
"""
import contextlib
import copy
import os
import subprocess
import sys
import tempfile
import time

import requests

import k8s
import identity
from ports import free_port  # noqa: F401 (tests call pods.free_port)

CONTRACT_BIN = os.path.dirname(sys.executable)

# Runs argv and prints the peak resident memory of it and its children (KiB), for measurements.
_MEASURE = ('import json, resource, subprocess, sys, time\n'
            'started = time.monotonic()\n'
            'code = subprocess.call(sys.argv[1:])\n'
            'print(json.dumps({"code": code, "seconds": time.monotonic() - started,\n'
            '                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}), file=sys.stderr)\n'
            'sys.exit(code)\n')




class PodSpec(dict):
    """A pod spec and the namespace its pods run in (which, with its ServiceAccount, picks its AWS role)."""
    namespace = None


def pod_spec(obj):
    """The pod template of a Deployment, StatefulSet, Job or CronJob (a copy)."""
    spec = obj['spec']
    if obj['kind'] == 'CronJob':
        spec = spec['jobTemplate']['spec']
    spec = PodSpec(copy.deepcopy(spec['template']['spec']))
    spec.namespace = obj['metadata'].get('namespace')
    # A StatefulSet's claims are volumes of the pod, as the controller makes them.
    for claim in obj['spec'].get('volumeClaimTemplates', []):
        spec.setdefault('volumes', []).append({'name': claim['metadata']['name'], 'emptyDir': {}})
    return spec


def volume_folders(spec, configmaps=None, root=None):
    return k8s.emptydir_mounts(spec, root or tempfile.mkdtemp(prefix='contract-pod-'), configmaps)


def aws_env(spec):
    """The key pair of the pod's own role, or none (a pod spec not from `pod_spec` has no namespace)."""
    return identity.pod_env(getattr(spec, 'namespace', None), spec.get('serviceAccountName'))


def process_env(spec, container, secrets, mounts, bin_dirs=(), extra=None):
    # A clean environment, like a container's: nothing leaks in from the developer's shell.
    env = {'PATH': ':'.join([*bin_dirs, CONTRACT_BIN, '/usr/bin', '/bin']), 'LANG': 'C.UTF-8'}
    env.update(aws_env(spec))
    env.update(k8s.container_env(container, secrets, mounts))
    env.update(extra or {})
    return env


def run_init_containers(spec, secrets, mounts=None, timeout=300, configmaps=None, bin_dirs=()):
    """Runs the init containers of one pod in order; `mounts` are the pod's volume folders."""
    mounts = mounts or volume_folders(spec, configmaps)
    for container in spec.get('initContainers', []):
        env = process_env(spec, container, secrets, mounts, bin_dirs)
        result = subprocess.run(k8s.argv(container, env, mounts), env=env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f'init container {container["name"]} failed ({result.returncode}):\n{result.stderr[-3000:]}')


class Completed:
    def __init__(self, returncode, output, seconds, peak_mib):
        self.returncode, self.output, self.seconds, self.peak_mib = returncode, output, seconds, peak_mib


def run_to_completion(spec, secrets, configmaps=None, bin_dirs=(), extra_env=None, timeout=900, mounts=None):
    """Runs a Job's pod (init containers, then its one container) to the end; measures the container."""
    import json
    mounts = mounts or volume_folders(spec, configmaps)
    run_init_containers(spec, secrets, mounts, configmaps=configmaps, bin_dirs=bin_dirs)
    [container] = spec['containers']
    env = process_env(spec, container, secrets, mounts, bin_dirs, extra_env)
    result = subprocess.run([sys.executable, '-c', _MEASURE, *k8s.argv(container, env, mounts)], env=env,
                            capture_output=True, text=True, timeout=timeout)
    stats = json.loads(result.stderr.strip().splitlines()[-1])
    return Completed(result.returncode, result.stdout + result.stderr, stats['seconds'], stats['peak_kib'] / 1024)


def _bind_loopback(argv, port, local_port):
    """The listen flags of the manifest (--host/--port, or Redis's --port) on loopback and a free port."""
    out = []
    for i, a in enumerate(argv):
        previous = argv[i - 1] if i > 0 else None
        if previous == '--host':
            out.append('127.0.0.1')
        elif previous == '--port':
            assert a == str(port), f'--port {a} is not the probe\'s port {port}'
            out.append(str(local_port))
        else:
            out.append(a)
    return out


class RunningServer:
    def __init__(self, spec, container, port, local_port, started, ready, mounts, proc, log):
        self.pod_spec = spec
        self.log = log
        self.container = container
        # The port of the manifest, which clients address, and the one the process listens on here.
        self.port = port
        self.local_port = local_port
        self.start_to_ready_seconds = ready - started
        self.mounts = mounts
        self.proc = proc

    @property
    def env(self):
        return {e['name']: e.get('value') for e in self.container.get('env', [])}

    def url(self, path):
        return f'http://127.0.0.1:{self.local_port}{path}'

    def rss_mib(self):
        """Resident memory of the server and every process it started (its process group)."""
        total = 0
        for entry in filter(str.isdigit, os.listdir('/proc')):
            try:
                with open(f'/proc/{entry}/stat') as f:
                    if int(f.read().rsplit(')', 1)[1].split()[2]) != self.proc.pid:
                        continue
                with open(f'/proc/{entry}/status') as f:
                    total += next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))
            except (FileNotFoundError, ProcessLookupError, ValueError, IndexError, StopIteration):
                continue
        return total / 1024


def _ready_http(container, local_port):
    path, _ = k8s.probe_path(container, 'readinessProbe')

    def ready():
        try:
            return requests.get(f'http://127.0.0.1:{local_port}{path}', timeout=10).status_code == 200
        except requests.RequestException:
            # Refused, reset or slow: on a busy machine all of these mean "not ready yet".
            return False
    return ready


def probe_port(container):
    probe = container['readinessProbe']
    if 'httpGet' in probe:
        return k8s.port_number(container, probe['httpGet']['port'])
    return container['ports'][0]['containerPort']


@contextlib.contextmanager
def run_server(spec, secrets, ready_timeout=180, configmaps=None, bin_dirs=(), extra_env=None, extra_args=(),
               route=None, ready=None, mounts=None, name='server'):
    """Runs the init containers, then the pod's first container until its readiness probe passes.

    `ready(local_port, env)` replaces the HTTP readiness probe for containers probed otherwise;
    `route(port, local_port)` tells clients where the manifest's port now is; `extra_args` are
    appended (only to keep a server on loopback where the manifest listens everywhere)."""
    mounts = mounts or volume_folders(spec, configmaps)
    run_init_containers(spec, secrets, mounts, configmaps=configmaps, bin_dirs=bin_dirs)
    container = spec['containers'][0]
    env = process_env(spec, container, secrets, mounts, bin_dirs, extra_env)
    # A container with neither ports nor a readiness probe (a daemon) listens nowhere.
    listens = 'readinessProbe' in container or container.get('ports')
    port = probe_port(container) if listens else None
    local_port = free_port() if listens else None
    argv = k8s.argv(container, env, mounts)
    argv = (_bind_loopback(argv, port, local_port) if listens else argv) + list(extra_args)
    is_ready = (lambda: ready(local_port, env)) if ready else _ready_http(container, local_port)
    log = tempfile.NamedTemporaryFile(prefix=f'contract-{name}-', suffix='.log', delete=False)
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = started + ready_timeout
        while not is_ready():
            if proc.poll() is not None:
                raise RuntimeError(f'{name} exited with {proc.returncode}:\n{open(log.name).read()[-3000:]}')
            if time.monotonic() > deadline:
                raise TimeoutError(f'{name} not ready after {ready_timeout}s:\n{open(log.name).read()[-3000:]}')
            time.sleep(0.2)
        if route and listens:
            route(port, local_port)
        yield RunningServer(spec, container, port, local_port, started, time.monotonic(), mounts, proc, log.name)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        os.unlink(log.name)
