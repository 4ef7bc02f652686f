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


class NotServed(Exception):
    """External Secrets refuses a ClusterSecretStore whose conditions leave out the ExternalSecret's namespace."""


def fetch(identities, paths, external_secret, operator_credentials):
    """The Secret External Secrets would write for `external_secret`, read as the operator reads it:
    the ClusterSecretStore it names (refused unless its conditions list the ExternalSecret's
    namespace, as ESO's store check does), the store's role assumed with the operator's own
    credentials (or, for a store without a role, the operator's own), and each remote secret read
    with those. Both calls are authorized by the
    emulator against the synthesized policies; nothing here decides access but that rule."""
    ref = external_secret['spec']['secretStoreRef']
    store = next(s for s in paths['stores'] if s['metadata']['name'] == ref['name'])
    served = [ns for condition in store['spec'].get('conditions', []) for ns in condition.get('namespaces', [])]
    if external_secret['metadata']['namespace'] not in served:
        raise NotServed(f"{ref['name']} does not serve namespace {external_secret['metadata']['namespace']}")
    role = store['spec']['provider']['aws'].get('role')
    # Without a role ESO reads with its own credentials (the AWS SDK's default chain).
    credentials = identities.assume(operator_credentials, role, 'external-secrets') if role else operator_credentials
    secrets = identities.client('secretsmanager', credentials)
    read = {}

    def remote(key):
        if key not in read:
            read[key] = json.loads(secrets.get_secret_value(SecretId=key)['SecretString'])
        return read[key]
    values = {d['secretKey']: remote(d['remoteRef']['key'])[d['remoteRef']['property']] for d in external_secret['spec'].get('data', [])}
    for source in external_secret['spec'].get('dataFrom', []):
        values.update(remote(source['extract']['key']))
    return values
