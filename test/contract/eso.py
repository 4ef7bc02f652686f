"""Renders an ExternalSecret's template the way External Secrets does, with Go's text/template."""
import json
import os
import subprocess

GOTEMPLATE = os.path.join(os.path.dirname(__file__), 'gotemplate')


def render(template, data):
    result = subprocess.run(['go', 'run', '.', template], cwd=GOTEMPLATE, input=json.dumps(data),
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f'template rendering failed: {result.stderr}')
    return result.stdout


def external_secret(objects, name):
    return next(o for o in objects if o['kind'] == 'ExternalSecret' and o['metadata']['name'] == name)


def copied_keys(external_secret, remote):
    """The keys ESO copies into the Secret: for each `data` entry, that property of `remote` (the
    properties of the one remote secret the entries name, as in the stack's ExternalSecrets)."""
    return {d['secretKey']: remote[d['remoteRef']['property']] for d in external_secret['spec'].get('data', [])}
