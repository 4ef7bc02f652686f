"""Running a model pod that KServe v0.20.0's real controller made (kserve_controller.py) on this machine.

Every container's command line and env come from the pod as the API server stored it, after
KServe's controller built it and its pod webhook injected the storage initializer and the agent.
The programs are KServe's own at the tag (github.com/kserve/kserve@v0.20.0 from the Go module proxy,
and kserve / kserve-storage from PyPI), each run as its image would run it:
- storage initializer: `python/storage-initializer/scripts/initializer-entrypoint` with the init
  container's args;
- model server: `python -m sklearnserver` (python/sklearn.Dockerfile's entrypoint) with the
  container's args;
- agent: the binary built by scripts/contract/kserve-build.sh with the container's args.

The substitutions are the harness's, each named where it is made: a local folder for the pod's
`/mnt/models` volume, loopback ports for the pod's, moto's key pair where EKS Pod Identity would
give credentials, and moto's endpoint where the pod would reach AWS S3.
"""
import contextlib
import fcntl
import json
import os
import subprocess
import tempfile
import time

import identity

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSERVE_PYTHON = os.path.join(ROOT, '.venv-kserve', 'bin', 'python')
KSERVE_RELEASE = 'v0.20.0'
AGENT_BIN = os.path.join(ROOT, '.tools', f'kserve-agent-{KSERVE_RELEASE}')
MODEL_DIR = '/mnt/models'


def kserve_source():
    """KServe's source tree at the pinned tag, from the Go module proxy (setup.sh downloads it)."""
    result = subprocess.run(['go', 'mod', 'download', '-json', f'github.com/kserve/kserve@{KSERVE_RELEASE}'],
                            capture_output=True, text=True, check=True, cwd='/tmp', env={**os.environ, 'GOFLAGS': '-mod=mod'})
    return json.loads(result.stdout)['Dir']


def clean_env(extra):
    """A container's environment: nothing from the developer's shell."""
    return {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'HOME': '/tmp', **extra}


def named(objects, kind, name):
    [match] = [o for o in objects if o['kind'] == kind and o['metadata']['name'] == name]
    return match


def container(pod, name):
    [match] = [c for c in pod['spec'].get('initContainers', []) + pod['spec']['containers'] if c['name'] == name]
    return match


def env_of(c):
    """A container's env as the pod states it (every value literal: KServe writes no valueFrom here)."""
    assert all('value' in v or 'valueFrom' not in v for v in c.get('env', [])), c.get('env')
    return {v['name']: v.get('value', '') for v in c.get('env', [])}


def replace_flag(args, flag, value):
    """`args` with the value after `flag` (two words) or of `flag=` (one word) replaced."""
    out, i, found = [], 0, False
    while i < len(args):
        if args[i] == flag and i + 1 < len(args):
            out += [flag, value]
            i, found = i + 2, True
            continue
        if args[i].startswith(f'{flag}='):
            out.append(f'{flag}={value}')
            found = True
        else:
            out.append(args[i])
        i += 1
    assert found, f'{flag} is not among {args}'
    return out


def flag_value(args, flag):
    for i, arg in enumerate(args):
        if arg == flag:
            return args[i + 1]
        if arg.startswith(f'{flag}='):
            return arg.split('=', 1)[1]
    raise KeyError(flag)


def pod_identity_env(pod):
    """The key pair EKS Pod Identity gives the pod: its ServiceAccount's own role (identity.py)."""
    return identity.pod_env(pod['metadata']['namespace'], pod['spec'].get('serviceAccountName'))


def storage_initializer_env(pod, emulator_env):
    return clean_env({**env_of(container(pod, 'storage-initializer')), **pod_identity_env(pod), **emulator_env})


def run_storage_initializer(pod, dest, emulator_env, storage_uri=None, timeout=300):
    """The pod's init container on this machine; returns (returncode, log, seconds).

    `storage_uri` replaces the one the controller wrote, for the refusal checks."""
    args = container(pod, 'storage-initializer')['args']
    assert args[1:] == [MODEL_DIR], args
    entrypoint = os.path.join(kserve_source(), 'python', 'storage-initializer', 'scripts', 'initializer-entrypoint')
    started = time.monotonic()
    result = subprocess.run([KSERVE_PYTHON, entrypoint, storage_uri or args[0], dest], env=storage_initializer_env(pod, emulator_env),
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def runtime_argv(pod, model_dir, http_port, grpc_port):
    """The model server's command line, the pod's volume and ports replaced by local ones."""
    server = container(pod, 'kserve-container')
    assert 'command' not in server, 'the runtime would replace the image entrypoint'
    args = replace_flag(replace_flag(server['args'], '--model_dir', model_dir), '--http_port', str(http_port))
    return [KSERVE_PYTHON, '-m', 'sklearnserver', *args, f'--grpc_port={grpc_port}']


def runtime_env(pod, kserve_src):
    # The image installs the runtime package; here it is imported from KServe's source at the tag.
    return clean_env({**env_of(container(pod, 'kserve-container')),
                      'PYTHONPATH': os.path.join(kserve_src, 'python', 'sklearnserver'), 'PYTHONDONTWRITEBYTECODE': '1'})


@contextlib.contextmanager
def one_agent_at_a_time():
    """Held while an agent runs. The agent also listens on a fixed abstract unix socket
    (`@/kserve/agent.sock`, cmd/agent/main.go), one per network namespace, so agents of the two
    contract sessions (scripts/contract/run.sh) must take turns; CONTRACT_LOCKS is their shared folder."""
    with open(os.path.join(os.environ.get('CONTRACT_LOCKS', tempfile.gettempdir()), 'kserve-agent.lock'), 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def agent_argv(pod, component_port, agent_port, marshaller_port, batch_interval=None):
    """The agent's command line from the pod, with loopback ports (and, for a shorter wait, another
    batch interval) in place of the pod's."""
    args = replace_flag(container(pod, 'agent')['args'], '--component-port', str(component_port))
    if batch_interval:
        args = replace_flag(args, '--log-batch-interval', batch_interval)
    return [AGENT_BIN, *args, '--port', str(agent_port), '--log-marshaller-port', str(marshaller_port),
            '--log-marshaller-url', f'http://127.0.0.1:{marshaller_port}/marshal']


def agent_env(pod, component_port, emulator_env):
    """The agent's env from the pod, its readiness probe pointed at the local model server's port,
    then Pod Identity's stand-in and the emulator endpoint."""
    env = env_of(container(pod, 'agent'))
    probe = json.loads(env['SERVING_READINESS_PROBE'])
    probe['tcpSocket']['port'] = component_port
    env['SERVING_READINESS_PROBE'] = json.dumps(probe)
    return clean_env({**env, **pod_identity_env(pod), **emulator_env})
