"""The contract must catch a wrong flag: each mutant is the synthesized pod with one classic
misconfiguration, and the check it breaks must fail against it."""
import pytest

import k8s
import mlflow_checks as checks
from mlflow_server import pod_spec_of, rds_secrets, run_server


def _default_root_instead_of_proxy(pod):
    # The mistake in mlflow/mlflow#14226: clients then need S3 credentials of their own.
    args = pod['containers'][0]['args']
    args[args.index('--artifacts-destination')] = '--default-artifact-root'


def _no_allowed_hosts(pod):
    env = pod['containers'][0]['env']
    env[:] = [e for e in env if e['name'] != 'MLFLOW_SERVER_ALLOWED_HOSTS']


@pytest.fixture(scope='module')
def objects():
    return k8s.load_objects('mlflow.json')


def _run_mutant(objects, services, endpoints, mutate, database):
    pod = pod_spec_of(objects)
    mutate(pod)
    secrets = rds_secrets(endpoints, services['create_rds_database'](database), f'{database}_server')
    return run_server(pod, secrets)


def test_artifact_root_instead_of_proxy_is_caught(objects, services, endpoints):
    checks.remove_aws_credentials()
    name = k8s.find(objects, 'Service')['metadata']['name']
    checks.use_cluster_dns([name])
    with _run_mutant(objects, services, endpoints, _default_root_instead_of_proxy, 'mutant_root') as server:
        with pytest.raises(AssertionError, match='s3://'):
            checks.check_tracking_and_artifacts(f'http://{name}:{server.port}', 'mutant')


def test_missing_allowed_hosts_is_caught(objects, services, endpoints):
    with _run_mutant(objects, services, endpoints, _no_allowed_hosts, 'mutant_hosts') as server:
        with pytest.raises(AssertionError, match='was not refused'):
            checks.check_host_refused(server, '10.1.2.3:5000')
