"""MLflow on AWS with `databaseCaCertificates`: every container verifies the database server.

The pod, its CA ConfigMap and the URI template are the stack's (stack-verify.json); the CA bundle
in the ConfigMap is replaced by the local PostgreSQL's own certificate, as the endpoint is.
"""
import subprocess

import pytest

import eso
import k8s
from mlflow_server import pod_spec_of, run_init_containers, run_server

CA_CONFIGMAP = 'mlflow-db-ca'


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('stack-verify.json')


def _secrets(objects, endpoints, rds, host='127.0.0.1'):
    uri_secret = eso.external_secret(objects, endpoints['mlflow']['secretName'])
    from_master = {**eso.copied_keys(uri_secret, rds), 'host': host}
    uri = eso.render(uri_secret['spec']['target']['template']['data']['uri'],
                     {'username': f'{rds["dbname"]}_server', 'password': 'Verified-pass_1', **from_master})
    # One PostgreSQL serves every test: each gets its own database in place of the stack's `mlflow`.
    uri = uri.replace('/mlflow?', f'/{rds["dbname"]}?')
    return {endpoints['mlflow']['secretName']: {'uri': uri},
            endpoints['mlflow']['adminSecretName']: eso.copied_keys(eso.external_secret(objects, endpoints['mlflow']['adminSecretName']), rds)}


def _pod(objects):
    return pod_spec_of([o for o in objects if o['kind'] == 'Deployment' and o['metadata']['namespace'] == 'mlflow'])


def test_the_uri_asks_for_full_verification_against_the_mounted_bundle(objects, endpoints):
    template = eso.external_secret(objects, endpoints['mlflow']['secretName'])['spec']['target']['template']['data']['uri']
    assert template.endswith('?sslmode=verify-full&sslrootcert=/etc/mlflow-db-ca/ca.pem')
    configmap = next(o for o in objects if o['kind'] == 'ConfigMap' and o['metadata']['name'] == CA_CONFIGMAP)
    assert 'BEGIN CERTIFICATE' in configmap['data']['ca.pem']


def test_the_pod_verifies_the_server_and_runs(objects, services, endpoints):
    rds = services['create_rds_database']('verified')
    with run_server(_pod(objects), _secrets(objects, endpoints, rds), configmaps={CA_CONFIGMAP: {'ca.pem': services['server_ca']}}) as server:
        assert server.start_to_ready_seconds > 0


def test_a_server_signed_by_another_ca_is_refused(objects, services, endpoints, tmp_path):
    key, cert = tmp_path / 'other.key', tmp_path / 'other.crt'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=impostor',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    rds = services['create_rds_database']('impostor')
    with pytest.raises(RuntimeError, match='db-bootstrap failed[\\s\\S]*certificate verify failed'):
        run_init_containers(_pod(objects), _secrets(objects, endpoints, rds), configmaps={CA_CONFIGMAP: {'ca.pem': cert.read_text()}})


def test_a_server_name_other_than_the_certificate_s_is_refused(objects, services, endpoints):
    """verify-full, not just verify-ca: the right CA but another host name fails."""
    rds = services['create_rds_database']('misnamed')
    with pytest.raises(RuntimeError, match='db-bootstrap failed[\\s\\S]*does not match host name'):
        run_init_containers(_pod(objects), _secrets(objects, endpoints, rds, host='localhost'),
                            configmaps={CA_CONFIGMAP: {'ca.pem': services['server_ca']}})
