"""What KServe v0.20.0 makes of a synthesized InferenceService, for running its pod on this machine.

KServe's controller and pod webhook build the predictor pod; the tests do the same from the same
inputs, each step named after the KServe code it stands for (github.com/kserve/kserve@v0.20.0):
- storage initializer (`pkg/webhook/admission/pod/storage_initializer_injector.go`): the init
  container of the named ClusterStorageContainer, args `<storageUri> /mnt/models`, its env merged;
  the program is KServe's `python/storage-initializer/scripts/initializer-entrypoint`;
- model server (`ClusterServingRuntime` of the runtime chart): the runtime's args with `{{.Name}}`
  set to the InferenceService's name; the entrypoint is the runtime image's (`python -m sklearnserver`,
  python/sklearn.Dockerfile);
- payload-logging agent (`pkg/webhook/admission/pod/agent_injector.go`): its flags from the
  predictor's logger and the pod's labels and annotations, and the S3 env KServe's credential
  builder derives from the annotations of the logger's ServiceAccount
  (`pkg/credentials/service_account_credentials.go`, `pkg/credentials/s3/utils.go`).

The substitutions are the harness's: loopback ports instead of the pod's, moto's key pair where EKS
Pod Identity would give credentials, and moto's endpoint where the pod would reach AWS S3.
"""
import json
import os
import subprocess
import time

from services import EMULATOR_CREDENTIALS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSERVE_PYTHON = os.path.join(ROOT, '.venv-kserve', 'bin', 'python')
KSERVE_RELEASE = 'v0.20.0'
AGENT_BIN = os.path.join(ROOT, '.tools', f'kserve-agent-{KSERVE_RELEASE}')
MODEL_DIR = '/mnt/models'
IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn'


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


def storage_initializer_env(storage_container):
    return {v['name']: v['value'] for v in storage_container['spec']['container'].get('env', [])}


def run_storage_initializer(storage_uri, dest, env, timeout=300):
    """KServe's storage initializer as the init container runs it; returns (returncode, log, seconds)."""
    entrypoint = os.path.join(kserve_source(), 'python', 'storage-initializer', 'scripts', 'initializer-entrypoint')
    started = time.monotonic()
    result = subprocess.run([KSERVE_PYTHON, entrypoint, storage_uri, dest], env=clean_env(env),
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def runtime_argv(runtime, isvc, model_dir, http_port, grpc_port):
    """The runtime container's command line for this InferenceService, on loopback ports."""
    [container] = runtime['spec']['containers']
    assert 'command' not in container, 'the runtime would replace the image entrypoint'
    args = []
    for arg in container['args']:
        arg = arg.replace('{{.Name}}', isvc['metadata']['name'])
        arg = arg.replace(f'--model_dir={MODEL_DIR}', f'--model_dir={model_dir}')
        if arg.startswith('--http_port='):
            arg = f'--http_port={http_port}'
        args.append(arg)
    return [KSERVE_PYTHON, '-m', 'sklearnserver', *args, f'--grpc_port={grpc_port}']


def runtime_env(kserve_src):
    # The image installs the runtime package; here it is imported from KServe's source at the tag.
    return clean_env({'PYTHONPATH': os.path.join(kserve_src, 'python', 'sklearnserver'), 'PYTHONDONTWRITEBYTECODE': '1'})


def credential_env(service_account, s3_defaults):
    """The env KServe's credential builder adds for one ServiceAccount: with the IRSA annotation, the
    S3 settings of its `serving.kserve.io/s3-*` annotations over the ConfigMap's defaults."""
    annotations = service_account['metadata'].get('annotations') or {}
    if IRSA_ANNOTATION not in annotations:
        return {}
    env = {}
    pick = lambda key, default: annotations.get(f'serving.kserve.io/{key}') or s3_defaults.get(default) or ''  # noqa: E731
    endpoint = pick('s3-endpoint', 's3Endpoint')
    if endpoint:
        https = pick('s3-usehttps', 's3UseHttps') or '1'
        env.update({'S3_ENDPOINT': endpoint, 'AWS_ENDPOINT_URL': f'{"https" if https != "0" else "http"}://{endpoint}', 'S3_USE_HTTPS': https})
    for key, default, var in [('s3-verifyssl', 's3VerifySSL', 'S3_VERIFY_SSL'), ('s3-region', 's3Region', 'AWS_DEFAULT_REGION'),
                              ('s3-usevirtualbucket', 's3UseVirtualBucket', 'S3_USER_VIRTUAL_BUCKET'),
                              ('s3-useaccelerate', 's3UseAccelerate', 'S3_USE_ACCELERATE')]:
        if pick(key, default):
            env[var] = pick(key, default)
    return env


def agent_argv(isvc, pod_name, component_port, agent_port, marshaller_port):
    """The agent's flags, in the injector's order, with the harness's loopback ports last."""
    logger = isvc['spec']['predictor']['logger']
    storage = logger.get('storage') or {}
    meta = isvc['metadata']
    args = ['--log-url', logger['url'], '--source-uri', pod_name, '--log-mode', logger.get('mode', 'all'),
            '--inference-service', meta['name'], '--namespace', meta['namespace'], '--endpoint', '', '--component', 'predictor']
    if storage.get('path'):
        args += ['--log-store-path', storage['path']]
    if (storage.get('parameters') or {}).get('format'):
        args += ['--log-store-format', storage['parameters']['format']]
    if logger.get('batchSize', 0) > 0:
        args += ['--log-batch-size', str(logger['batchSize'])]
    if logger.get('batchInterval'):
        args += ['--log-batch-interval', logger['batchInterval']]
    if logger.get('metadataHeaders'):
        args += ['--metadata-headers', ','.join(logger['metadataHeaders'])]
    annotations = meta.get('annotations') or {}
    if logger.get('metadataAnnotations'):
        args += ['--metadata-annotations', ','.join(f'{k}={annotations[k]}' for k in logger['metadataAnnotations'] if k in annotations)]
    # The injector passes the flag and its value as two words (a bug in v0.20.0; harmless for S3).
    args += ['--logger-tls-skip-verify', 'false', '--component-port', str(component_port)]
    return [AGENT_BIN, *args, '--port', str(agent_port), '--log-marshaller-port', str(marshaller_port),
            '--log-marshaller-url', f'http://127.0.0.1:{marshaller_port}/marshal']


def agent_env(isvc, service_accounts, s3_defaults, component_port, emulator_env):
    """The agent's env: the readiness probe it proxies, then the credential builder's env for the
    pod's ServiceAccount and the logger's, then Pod Identity's stand-in and the emulator endpoint."""
    predictor = isvc['spec']['predictor']
    by_name = {sa['metadata']['name']: sa for sa in service_accounts}
    env = {'SERVING_READINESS_PROBE': json.dumps({'tcpSocket': {'port': component_port}, 'timeoutSeconds': 1, 'periodSeconds': 10,
                                                  'successThreshold': 1, 'failureThreshold': 3})}
    for name in [predictor.get('serviceAccountName', 'default'), (predictor['logger'].get('storage') or {}).get('serviceAccountName', 'logger-sa')]:
        if name in by_name:
            env.update(credential_env(by_name[name], s3_defaults))
    return clean_env({**env, **EMULATOR_CREDENTIALS, **emulator_env})
