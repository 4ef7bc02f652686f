import base64
import datetime as dt
import io
import json

import pandas
import pytest
from conftest import FEATURES, NOW, record

from drift_job import payloads

ROW = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]


def test_v1_instances_as_lists_and_as_objects():
    assert payloads.request_rows({'instances': [ROW, ROW]}, FEATURES).shape == (2, 6)
    named = payloads.request_rows({'instances': [dict(zip(FEATURES, ROW))]}, FEATURES)
    assert named.iloc[0].tolist() == ROW


def test_v2_one_tensor_flat_or_nested_and_one_input_per_feature():
    flat = {'inputs': [{'name': 'x', 'shape': [2, 6], 'datatype': 'FP64', 'data': ROW + ROW}]}
    nested = {'inputs': [{'name': 'x', 'shape': [2, 6], 'datatype': 'FP64', 'data': [ROW, ROW]}]}
    assert payloads.request_rows(flat, FEATURES).equals(payloads.request_rows(nested, FEATURES))
    per_feature = {'inputs': [{'name': f, 'shape': [1], 'datatype': 'FP64', 'data': [v]} for f, v in zip(FEATURES, ROW)]}
    assert payloads.request_rows(per_feature, FEATURES).iloc[0].tolist() == ROW


def test_bodies_that_are_not_requests_fail_clearly():
    with pytest.raises(payloads.PayloadError, match='neither "instances"'):
        payloads.request_rows({'predictions': [1]}, FEATURES)
    with pytest.raises(payloads.PayloadError, match='width 3 for 6 features'):
        payloads.request_rows({'inputs': [{'name': 'x', 'shape': [1, 3], 'data': [1, 2, 3]}]}, FEATURES)


def test_json_batches_are_objects_or_arrays():
    one = record({'instances': [ROW]}, when=NOW)
    assert payloads.parse_object('a-request.json', json.dumps(one).encode()) == [one]
    assert payloads.parse_object('a-request.json', json.dumps([one, one]).encode()) == [one, one]


def test_csv_and_parquet_batches_have_the_loggers_columns():
    rec = record({'instances': [ROW]})
    df = pandas.DataFrame([rec])
    assert payloads.parse_object('b-request.csv', df.to_csv(index=False).encode())[0]['bytes'] == rec['bytes']
    buffer = io.BytesIO()
    df.to_parquet(buffer)
    assert payloads.parse_object('c-request.parquet', buffer.getvalue())[0]['reqType'] == payloads.REQUEST
    with pytest.raises(payloads.PayloadError, match='not a payload-log object'):
        payloads.parse_object('d.txt', b'')


def test_only_requests_inside_the_window_count():
    since = NOW - dt.timedelta(minutes=10)
    records = [record({'instances': [ROW]}, when=NOW), record({'instances': [ROW, ROW]}, when=NOW - dt.timedelta(minutes=20)),
               record({'predictions': [1]}, kind='response', when=NOW)]
    assert len(payloads.current_rows(records, FEATURES, since)) == 1
    # Without an event time (csv, parquet) the object's storage time decides.
    untimed = [record({'instances': [ROW]})]
    assert len(payloads.current_rows(untimed, FEATURES, since, stored_at=NOW)) == 1
    assert len(payloads.current_rows(untimed, FEATURES, since, stored_at=since - dt.timedelta(seconds=1))) == 0


def test_go_timestamps_with_nanoseconds_parse():
    assert payloads._timestamp('2026-11-28T22:46:57.990642104Z') == dt.datetime(2026, 11, 28, 22, 46, 57, 990642, tzinfo=dt.timezone.utc)
    assert base64
