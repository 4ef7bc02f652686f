"""KServe v0.20 payload logs on S3, turned into rows of the model's features.

The agent writes batches of records under `<url>/<namespace>/<model>/<component>/<path>/`, one
object per batch: JSON (an object, or an array when the batch holds more than one record), CSV or
Parquet. Every record's `bytes` is the base64 HTTP body; only JSON records carry their event time
(`occurrenceTime`), so CSV and Parquet objects are windowed by the time S3 stored them.
"""
import base64
import datetime as dt
import io
import json
import re

import pandas

REQUEST = 'org.kubeflow.serving.inference.request'


class PayloadError(Exception):
    """The logs cannot be turned into rows (unknown format, a body that is not a prediction request)."""


def list_recent(s3, bucket, prefix, since):
    """Keys under `prefix` stored at or after `since`: a record is written after it happened."""
    keys = []
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix):
        keys += [o['Key'] for o in page.get('Contents', []) if o['LastModified'] >= since]
    return sorted(keys)


def parse_object(key, body):
    """The records of one stored batch, as dicts with the logger's field names."""
    if key.endswith('.json'):
        data = json.loads(body)
        return data if isinstance(data, list) else [data]
    if key.endswith('.csv'):
        return pandas.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False).to_dict('records')
    if key.endswith('.parquet'):
        return pandas.read_parquet(io.BytesIO(body)).to_dict('records')
    raise PayloadError(f'{key}: not a payload-log object (json, csv or parquet)')


def _timestamp(value):
    # Go writes RFC 3339 with up to nine fraction digits; Python parses at most six.
    text = re.sub(r'\.(\d{6})\d+', r'.\1', value.replace('Z', '+00:00'))
    return dt.datetime.fromisoformat(text)


def _flat(data):
    """A v2 tensor's data, flat (the protocol allows nested rows too)."""
    return [x for row in data for x in row] if data and isinstance(data[0], list) else list(data)


def request_rows(body, features):
    """The feature rows of one v1 (`instances`) or v2 (`inputs`) request body."""
    if 'instances' in body:
        instances = body['instances']
        if instances and isinstance(instances[0], dict):
            return pandas.DataFrame(instances).reindex(columns=features)
        return pandas.DataFrame(instances, columns=features)
    if 'inputs' in body:
        inputs = body['inputs']
        if len(inputs) == 1 and len(inputs[0].get('shape', [])) == 2:
            rows, width = inputs[0]['shape']
            if width != len(features):
                raise PayloadError(f'a v2 input of width {width} for {len(features)} features')
            flat = _flat(inputs[0]['data'])
            return pandas.DataFrame([flat[i * width:(i + 1) * width] for i in range(rows)], columns=features)
        # One named 1-D input per feature.
        by_name = {i['name']: _flat(i['data']) for i in inputs}
        missing = [f for f in features if f not in by_name]
        if missing:
            raise PayloadError(f'v2 inputs {sorted(by_name)} do not name the features {missing}')
        return pandas.DataFrame({f: by_name[f] for f in features})
    raise PayloadError('a request body with neither "instances" (v1) nor "inputs" (v2)')


def current_rows(records, features, since, stored_at=None):
    """Rows of the request records that happened at or after `since`."""
    frames = []
    for record in records:
        if record.get('reqType') != REQUEST:
            continue
        occurred = record.get('occurrenceTime')
        if occurred is not None and _timestamp(occurred) < since:
            continue
        if occurred is None and stored_at is not None and stored_at < since:
            continue
        body = json.loads(base64.b64decode(record['bytes']))
        frames.append(request_rows(body, features))
    return pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame(columns=features)
