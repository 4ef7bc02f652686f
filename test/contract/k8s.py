"""What the kubelet does with a container spec, for running it on this machine.

Only the parts the contract tests need: environment variables (literal, or from a Secret the
test supplies), Kubernetes' $(VAR) expansion in command and args, and probe URLs. Nothing here
adds flags or variables: what runs is what the manifest says.
"""
import json
import os
import re


def load_objects(name):
    with open(os.path.join(os.environ['CONTRACT_MANIFESTS'], name)) as f:
        return json.load(f)


def load_endpoints():
    with open(os.path.join(os.environ['CONTRACT_MANIFESTS'], 'endpoints.json')) as f:
        return json.load(f)


def find(objects, kind):
    matches = [o for o in objects if o['kind'] == kind]
    assert len(matches) == 1, f'expected one {kind}, found {len(matches)}'
    return matches[0]


def container_env(container, secrets, mounts=None):
    """The container's environment as the kubelet builds it: first every key of the Secrets in
    `envFrom`, then `env` (secretKeyRef resolved from `secrets`), which wins on a clash."""
    env = {}
    for source in container.get('envFrom', []):
        assert set(source) == {'secretRef'}, f'envFrom: only secretRef is emulated, not {source}'
        env.update(secrets[source['secretRef']['name']])
    for var in container.get('env', []):
        if 'value' in var:
            env[var['name']] = at_host_paths(expand(var['value'], env), container, mounts)
        else:
            ref = var['valueFrom']['secretKeyRef']
            # A Secret's value may name a mounted file (a URI's sslrootcert=): same rewriting.
            env[var['name']] = at_host_paths(secrets[ref['name']][ref['key']], container, mounts)
    return env


def emptydir_mounts(pod_spec, root, configmaps=None):
    """One host folder per volume of the pod, shared by its containers, like the kubelet's: empty for
    an emptyDir, holding the listed keys for a configMap (whose data the test supplies)."""
    mounts = {}
    for volume in pod_spec.get('volumes', []):
        mounts[volume['name']] = os.path.join(root, volume['name'])
        os.makedirs(mounts[volume['name']], exist_ok=True)
        if 'configMap' in volume:
            data = (configmaps or {})[volume['configMap']['name']]
            for item in volume['configMap']['items']:
                target = os.path.join(mounts[volume['name']], item['path'])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'w') as f:
                    f.write(data[item['key']])
        else:
            assert 'emptyDir' in volume, f'volume {volume["name"]}: only emptyDir and configMap are emulated'
    return mounts


def at_host_paths(text, container, mounts):
    """Rewrites the container's mount paths in `text` to the host folders that stand for them.

    One pass over all mount paths (longest first), so a host folder inserted for one mount is
    never rewritten again for another (e.g. /tmp inside a substituted host path).
    """
    if not mounts or not container.get('volumeMounts'):
        return text
    by_path = {m['mountPath']: mounts[m['name']] for m in container['volumeMounts']}
    pattern = '|'.join(re.escape(p) for p in sorted(by_path, key=len, reverse=True))
    return re.sub(rf'(?<![\w/])({pattern})(?=/|\b|$)', lambda m: by_path[m.group(1)], text)


_REF = re.compile(r'\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)')


def expand(text, env):
    """Kubernetes variable expansion: $(VAR) from earlier variables, $$ escapes, unknown kept."""
    def sub(m):
        if m.group(0) == '$$':
            return '$'
        return env.get(m.group(1), m.group(0))
    return _REF.sub(sub, text)


def argv(container, env, mounts=None):
    return [at_host_paths(expand(a, env), container, mounts) for a in container.get('command', []) + container.get('args', [])]


def port_number(container, port):
    if isinstance(port, int):
        return port
    return next(p['containerPort'] for p in container['ports'] if p.get('name') == port)


def probe_path(container, probe):
    get = container[probe]['httpGet']
    return get['path'], port_number(container, get['port'])
