"""Runs the MLflow pod of the synthesized manifest on this machine.

The init containers run to completion in order, then the server container starts; command, args
and env are the manifest's. Each emptyDir volume is a host folder shared by the pod's
containers, and its mount path is rewritten to that folder. The other substitutions are
endpoints and secret values: the
Secret's URI points at the local PostgreSQL, the listen address is 127.0.0.1 (not 0.0.0.0) on a
free port (clients still address the manifest's port; mlflow_checks maps it, as kube-proxy
would), and the AWS key pair that EKS Pod Identity would inject is moto's.
"""
import contextlib
import copy
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

import k8s
import mlflow_checks
from services import EMULATOR_CREDENTIALS

VENV_BIN = os.path.dirname(sys.executable)


class RunningServer:
    def __init__(self, pod_spec, port, local_port, started, ready):
        self.pod_spec = pod_spec
        # The port of the manifest, which clients address, and the one the process listens on here.
        self.port = port
        self.local_port = local_port
        self.start_to_ready_seconds = ready - started
        self.container = pod_spec['containers'][0]

    @property
    def env(self):
        return {e['name']: e.get('value') for e in self.container.get('env', [])}

    def url(self, path):
        return f'http://127.0.0.1:{self.local_port}{path}'


def rds_secrets(endpoints, master, server_user, server_password=None):
    """The pod's two database Secrets for an RDS-like database: the server's URI (a role that
    db-bootstrap creates) and the master credentials, which only db-bootstrap reads."""
    import secrets as random
    password = server_password or random.token_urlsafe(18)
    uri = (f'postgresql+psycopg2://{server_user}:{password}@{master["host"]}:{master["port"]}/{master["dbname"]}'
           '?sslmode=require')
    return {endpoints['mlflow']['secretName']: {'uri': uri},
            endpoints['mlflow']['adminSecretName']: {'username': master['username'], 'password': master['password']}}


def pod_spec_of(objects):
    return copy.deepcopy(k8s.find(objects, 'Deployment')['spec']['template']['spec'])


def _process_env(container, secrets, mounts):
    # A clean environment, like a container's: nothing leaks in from the developer's shell.
    env = {'PATH': f'{VENV_BIN}:/usr/bin:/bin', 'LANG': 'C.UTF-8'}
    env.update(EMULATOR_CREDENTIALS)
    env.update(k8s.container_env(container, secrets, mounts))
    return env


def _bind_loopback(argv, port, local_port):
    def local(i, a):
        if i > 0 and argv[i - 1] == '--host':
            return '127.0.0.1'
        if i > 0 and argv[i - 1] == '--port':
            assert a == str(port), f'--port {a} is not the readiness probe\'s port {port}'
            return str(local_port)
        return a
    return [local(i, a) for i, a in enumerate(argv)]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_init_containers(pod_spec, secrets, mounts=None, timeout=300, configmaps=None):
    """Runs the init containers of one pod in order; `mounts` are the pod's volume folders."""
    mounts = mounts or k8s.emptydir_mounts(pod_spec, tempfile.mkdtemp(prefix='contract-pod-'), configmaps)
    for container in pod_spec.get('initContainers', []):
        env = _process_env(container, secrets, mounts)
        result = subprocess.run(k8s.argv(container, env, mounts), env=env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f'init container {container["name"]} failed ({result.returncode}):\n{result.stderr[-3000:]}')


@contextlib.contextmanager
def run_server(pod_spec, secrets, ready_timeout=180, configmaps=None):
    """Runs the init containers, then the server until its readiness probe passes."""
    mounts = k8s.emptydir_mounts(pod_spec, tempfile.mkdtemp(prefix='contract-pod-'), configmaps)
    run_init_containers(pod_spec, secrets, mounts)
    container = pod_spec['containers'][0]
    env = _process_env(container, secrets, mounts)
    path, port = k8s.probe_path(container, 'readinessProbe')
    local_port = free_port()
    argv = _bind_loopback(k8s.argv(container, env, mounts), port, local_port)
    log = tempfile.NamedTemporaryFile(prefix='contract-mlflow-', suffix='.log', delete=False)
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = started + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f'mlflow server exited with {proc.returncode}:\n{open(log.name).read()[-3000:]}')
            try:
                if requests.get(f'http://127.0.0.1:{local_port}{path}', timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                # Refused, reset or slow: on a busy machine all of these mean "not ready yet".
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f'not ready after {ready_timeout}s:\n{open(log.name).read()[-3000:]}')
            time.sleep(0.2)
        mlflow_checks.route_service_port(port, local_port)
        yield RunningServer(pod_spec, port, local_port, started, time.monotonic())
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        os.unlink(log.name)
