"""Where the run's figures go: CloudWatch on AWS, or the log (one JSON line) anywhere else.

On clusters without CloudWatch, the JSON line `{"metric": "drift", ...}` is what a log pipeline
(Loki, Fluent Bit, CloudWatch Logs metric filters) turns into metrics and alerts.
"""
import json
import sys

DRIFT_SHARE = 'DriftShare'
DRIFTED_COLUMNS = 'DriftedColumns'
ROW_COUNT = 'RowCount'


def figures(summary):
    return {DRIFT_SHARE: summary.drift_share, DRIFTED_COLUMNS: len(summary.drifted_columns), ROW_COUNT: summary.rows}


def publish_cloudwatch(cloudwatch, namespace, model, values, timestamp):
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {'MetricName': name, 'Dimensions': [{'Name': 'Model', 'Value': model}], 'Timestamp': timestamp, 'Value': float(value),
         'Unit': 'Count' if name != DRIFT_SHARE else 'None'}
        for name, value in values.items()])


def publish_log(model, values, timestamp, stream=sys.stdout):
    print(json.dumps({'metric': 'drift', 'model': model, 'timestamp': timestamp.isoformat(), **values}), file=stream, flush=True)
