"""One secret path per component: External Secrets' stores and roles against Secrets Manager in the emulator.

The reference stack's ClusterSecretStores, their roles (trust and policies) and every ExternalSecret
come from secret-paths.json (scripts/contract/identities.ts: synthesized, intrinsics resolved). The
emulator holds a secret for each ARN the ExternalSecrets name and enforces IAM on both calls the
operator makes: AssumeRole of the store's role with the operator's own Pod Identity (its identity
policy and the role's trust), then GetSecretValue with the role's credentials (moto_server.py
gives the emulator the secret's ARN as the resource, as AWS evaluates it). The operator itself is
emulated by eso.fetch: External Secrets is a Go program this suite does not build, so its one
rule that is not IAM (a store serves only the namespaces its conditions list) is reproduced there,
and said so where a test relies on it.
"""
import copy
import json

import pytest
from botocore.exceptions import ClientError

import eso
import k8s


@pytest.fixture(scope='module')
def paths(services):
    """secret-paths.json with the emulator's ARNs (it appends a suffix to each secret's name), its
    secrets created, and the stores' roles made from their synthesized documents."""
    identities = services['identities']
    raw = k8s.load_objects('secret-paths.json')
    admin = identities.client('secretsmanager')
    text = json.dumps(raw)
    for arn in raw['secrets']:
        name = arn.split(':secret:', 1)[1]
        value = {'username': f'{name}-user', 'password': f'{name}-password', 'host': f'{name}.db.local', 'port': '5432'}
        created = admin.create_secret(Name=name, SecretString=json.dumps(value))['ARN']
        assert created.startswith(arn + '-'), created
        text = text.replace(json.dumps(arn), json.dumps(created))
    paths = json.loads(text)
    namespace, service_account = paths['operator'].split('/')
    for arn, role in paths['roles'].items():
        identities.role(arn, role['trust'], role['policies'], {paths['operatorRole']: (namespace, service_account)})
    paths['operatorCredentials'] = identities.pod_env(namespace, service_account)
    assert paths['operatorCredentials'], 'the operator has a Pod Identity role'
    return paths


def _secret(paths, namespace, name=None):
    return copy.deepcopy(next(es for es in paths['externalSecrets']
                              if es['metadata']['namespace'] == namespace and name in (None, es['metadata']['name'])))


def _denied(call):
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response['Error']
    # moto answers a JSON-protocol call it refuses with IAM's XML error, which botocore reads as
    # the bare status: the code is then inside the message.
    assert error['Code'] == 'AccessDenied' or (error['Code'] == '403' and '<Code>AccessDenied</Code>' in error['Message']), error
    return refused.value


def test_every_external_secret_of_the_stack_is_filled_through_its_own_namespace_s_store(services, paths):
    filled = {}
    for es in paths['externalSecrets']:
        values = eso.fetch(services['identities'], paths, es, paths['operatorCredentials'])
        assert set(values) >= {d['secretKey'] for d in es['spec'].get('data', [])}, es['metadata']
        filled[f"{es['metadata']['namespace']}/{es['metadata']['name']}"] = sorted(values)
    assert {k.split('/')[0] for k in filled} == {'mlflow', 'feast', 'dagster'}, filled
    assert len({s['spec']['provider']['aws']['role'] for s in paths['stores']}) == len(paths['stores']) == 3


def test_an_external_secret_in_feast_naming_mlflow_s_secret_fails(services, paths):
    mlflow_admin = _secret(paths, 'mlflow', 'mlflow-db-admin')['spec']['data'][0]['remoteRef']['key']
    copier = _secret(paths, 'feast')
    copier['metadata']['name'] = 'copy-of-mlflow-db-admin'
    for entry in copier['spec']['data']:
        entry['remoteRef'] = {'key': mlflow_admin, 'property': 'password'}
    # Through feast's own store: the store's role may read feast's secrets only (IAM, enforced).
    error = _denied(lambda: eso.fetch(services['identities'], paths, copier, paths['operatorCredentials']))
    assert 'secretsmanager:GetSecretValue' in str(error), error
    # Through MLflow's store: the store serves mlflow only (External Secrets' rule, emulated).
    copier['spec']['secretStoreRef']['name'] = _secret(paths, 'mlflow')['spec']['secretStoreRef']['name']
    with pytest.raises(eso.NotServed):
        eso.fetch(services['identities'], paths, copier, paths['operatorCredentials'])


def test_with_the_single_store_of_before_the_same_external_secret_got_the_password(services, paths):
    """The check above can fail: one store for all three namespaces, read with the operator's own
    role, which held every component's grants (what the stack shipped before)."""
    identities = services['identities']
    old_operator = identities.user('contract-single-store-operator',
                                   [document for role in paths['roles'].values() for document in role['policies']])
    single = copy.deepcopy(paths)
    for store in single['stores']:
        del store['spec']['provider']['aws']['role']
        store['spec']['conditions'] = [{'namespaces': ['dagster', 'feast', 'mlflow']}]
    mlflow_admin = _secret(paths, 'mlflow', 'mlflow-db-admin')['spec']['data']
    copier = _secret(paths, 'feast')
    copier['spec']['data'] = [{'secretKey': 'password', 'remoteRef': {'key': mlflow_admin[0]['remoteRef']['key'], 'property': 'password'}}]
    stolen = eso.fetch(identities, single, copier, old_operator)
    assert stolen['password'].endswith('-password') and 'Mlflow' in stolen['password'], stolen


def test_the_operator_reads_no_secret_with_its_own_identity(services, paths):
    secrets = services['identities'].client('secretsmanager', paths['operatorCredentials'])
    for es in paths['externalSecrets']:
        for entry in es['spec'].get('data', []):
            _denied(lambda: secrets.get_secret_value(SecretId=entry['remoteRef']['key']))


def test_a_store_s_role_is_assumed_by_the_operator_only(services, paths):
    identities = services['identities']
    role = paths['stores'][0]['spec']['provider']['aws']['role']
    # A pod with a role of its own: its policy allows no AssumeRole.
    _denied(lambda: identities.assume(identities.pod_env('mlflow', 'mlflow'), role))
    # The test's admin may call anything, but the role's trust names the operator alone.
    _denied(lambda: identities.assume(identities.admin, role))
    # And the operator may assume no role but the stores': not a component's Pod Identity role.
    component_role = 'arn:aws:iam::123456789012:role/contract-component'
    identities.role(component_role, {'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Action': ['sts:AssumeRole'], 'Principal': {'AWS': paths['operatorRole']}}]},
        [], {paths['operatorRole']: tuple(paths['operator'].split('/'))})
    _denied(lambda: identities.assume(paths['operatorCredentials'], component_role))
