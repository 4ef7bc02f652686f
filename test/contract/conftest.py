import os
import sys
from urllib.parse import urlparse

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import identity  # noqa: E402
import k8s  # noqa: E402
from services import EMULATOR_CREDENTIALS, postgres, s3_emulator  # noqa: E402

REPORT = []

# MLflow's server advertises presigned downloads for an S3 artifact store, and its clients then
# fetch artifacts from S3 with a URL the server signed. moto (5.2.5) cannot evaluate a presigned
# request while it enforces IAM (it fails on the missing Authorization header), so the tests'
# clients download through the server, as the same role: the one that signs those URLs on AWS.
os.environ['MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD'] = 'false'


def report(line):
    """Measurements, printed together at the end of the run."""
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section('contract measurements')
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope='session')
def endpoints():
    return k8s.load_endpoints()


@pytest.fixture(scope='session')
def services(endpoints):
    """PostgreSQL and the S3 emulator, up for the whole run, stopped at its end. The emulator
    enforces IAM from the start (identity.py): `s3` and `identities.client` are the test's own
    admin, and pods call AWS as their own roles."""
    s3_url = endpoints['s3EndpointUrl']
    with postgres(endpoints['postgresPort']) as create_database, s3_emulator(urlparse(s3_url).port) as s3:
        identities = identity.enforce(s3, endpoints['awsRegion'], EMULATOR_CREDENTIALS)
        bucket = urlparse(endpoints['mlflow']['artifactsDestination']).netloc
        client = identities.client('s3')
        client.create_bucket(Bucket=bucket)
        yield {'create_database': create_database, 'create_rds_database': create_database.rds,
               'superuser_uri': create_database.superuser_uri, 'server_ca': create_database.server_ca,
               's3': client, 'bucket': bucket, 'identities': identities}


@pytest.fixture(scope='session')
def kserve():
    """KServe's real manager with the reference stack's model applied (kserve.json), for the tests
    that run the pods it made; stopped at the end of the run."""
    from kserve_controller import kserve_cluster
    data = k8s.load_objects('kserve.json')
    with kserve_cluster(data['releases'], data['namespaces']) as cluster:
        cluster.deploy(data['models'])
        yield {'cluster': cluster, 'models': data['models']}
