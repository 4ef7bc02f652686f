import os
import sys
from urllib.parse import urlparse

import boto3
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import k8s  # noqa: E402
from services import EMULATOR_CREDENTIALS, postgres, s3_emulator  # noqa: E402

REPORT = []


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
    """PostgreSQL and the S3 emulator, up for the whole run, stopped at its end."""
    s3_url = endpoints['s3EndpointUrl']
    with postgres(endpoints['postgresPort']) as create_database, s3_emulator(urlparse(s3_url).port) as s3:
        bucket = urlparse(endpoints['mlflow']['artifactsDestination']).netloc
        client = boto3.client('s3', endpoint_url=s3, region_name=endpoints['awsRegion'], **{
            'aws_access_key_id': EMULATOR_CREDENTIALS['AWS_ACCESS_KEY_ID'],
            'aws_secret_access_key': EMULATOR_CREDENTIALS['AWS_SECRET_ACCESS_KEY'],
        })
        client.create_bucket(Bucket=bucket)
        yield {'create_database': create_database, 'create_rds_database': create_database.rds,
               'superuser_uri': create_database.superuser_uri, 'server_ca': create_database.server_ca,
               's3': client, 'bucket': bucket}


@pytest.fixture(scope='session')
def kserve():
    """KServe's real manager with the reference stack's model applied (kserve.json), for the tests
    that run the pods it made; stopped at the end of the run."""
    from kserve_controller import kserve_cluster
    data = k8s.load_objects('kserve.json')
    with kserve_cluster(data['releases'], data['namespaces']) as cluster:
        cluster.deploy(data['models'])
        yield {'cluster': cluster, 'models': data['models']}
