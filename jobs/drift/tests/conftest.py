import base64
import datetime as dt
import io
import json
import os
import sys

import boto3
import numpy
import pandas
import pytest
from moto import mock_aws

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FEATURES = [f'f{i}' for i in range(6)]
PREFIX = 'payload-logs/models/iris/predictor/predictions/'


@pytest.fixture
def aws(monkeypatch):
    for key in [k for k in os.environ if k.startswith('AWS_')]:
        monkeypatch.delenv(key)
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'eu-west-1')
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'unit-test')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'unit-test')
    with mock_aws():
        s3 = boto3.client('s3')
        for bucket in ('data', 'payloads', 'reports'):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
        yield {'s3': s3, 'cloudwatch': boto3.client('cloudwatch')}


def frame(rows, shift=0.0, seed=0):
    rng = numpy.random.default_rng(seed)
    return pandas.DataFrame(rng.normal(size=(rows, len(FEATURES))) + shift, columns=FEATURES)


def put_reference(s3, rows=2000):
    buffer = io.BytesIO()
    frame(rows, seed=1).to_parquet(buffer)
    s3.put_object(Bucket='data', Key='reference/iris.parquet', Body=buffer.getvalue())
    return 's3://data/reference/iris.parquet'


def record(body, kind='request', when=None, rid='00000000-0000-0000-0000-000000000000'):
    """A record as KServe v0.20's agent writes it (kserve-payload-logging.md, section 3.2)."""
    out = {'bytes': base64.b64encode(json.dumps(body).encode()).decode(), 'contentType': 'application/json',
           'reqType': f'org.kubeflow.serving.inference.{kind}', 'id': rid, 'inferenceService': 'iris', 'namespace': 'models',
           'component': 'predictor'}
    if when is not None:
        out['occurrenceTime'] = when.isoformat().replace('+00:00', '') + '123Z'
    return out


def put_json_batches(s3, df, when, per_object=50, protocol='v1'):
    rows = df.to_numpy().tolist()
    for start in range(0, len(rows), per_object):
        chunk = rows[start:start + per_object]
        records = []
        for i, row in enumerate(chunk):
            body = {'instances': [row]} if protocol == 'v1' else {
                'inputs': [{'name': 'input-0', 'shape': [1, len(row)], 'datatype': 'FP64', 'data': row}]}
            records += [record(body, 'request', when, f'id-{start + i}'), record({'predictions': [1]}, 'response', when, f'id-{start + i}')]
        s3.put_object(Bucket='payloads', Key=f'{PREFIX}id-{start}-request.json', Body=json.dumps(records).encode())


NOW = dt.datetime.now(dt.timezone.utc)
