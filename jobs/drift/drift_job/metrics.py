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


def publish_cloudwatch(cloudwatch, namespace, model, values, timestamp, dimensions=()):
    """`dimensions` ((name, value) pairs) go beside `Model`: an alarm matches a metric only on the
    exact set, so the stack's alarms see only their own deployment's figures."""
    dims = [{'Name': 'Model', 'Value': model}, *({'Name': n, 'Value': v} for n, v in dimensions)]
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {'MetricName': name, 'Dimensions': dims, 'Timestamp': timestamp, 'Value': float(value),
         'Unit': 'Count' if name != DRIFT_SHARE else 'None'}
        for name, value in values.items()])


def publish_log(model, values, timestamp, dimensions=(), stream=None):
    line = {'metric': 'drift', 'model': model, **({'dimensions': dict(dimensions)} if dimensions else {}), 'timestamp': timestamp.isoformat(), **values}
    # sys.stdout as it is when the figures are written, not when the module was imported.
    print(json.dumps(line), file=stream or sys.stdout, flush=True)
