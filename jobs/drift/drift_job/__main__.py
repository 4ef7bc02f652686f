"""One drift check of one model: python -m drift_job --model NAME --reference s3://... (see --help).

Reads the reference dataset (parquet) and the payload logs of the last `--window-minutes`,
computes drift with Evidently, stores the HTML and JSON reports under a dated prefix, publishes the
figures, and exits 0; any failure is logged on one line starting with "drift check failed" and the
exit code is 1. Without traffic in the window it publishes RowCount 0 and no drift figures.
"""
import argparse
import datetime as dt
import io
import logging
import sys
from urllib.parse import urlparse

import boto3
import pandas

from . import metrics, payloads, report

log = logging.getLogger('drift_job')


def s3_location(value):
    parsed = urlparse(value)
    if parsed.scheme != 's3' or not parsed.netloc:
        raise argparse.ArgumentTypeError(f'{value!r} is not an s3://<bucket>/<key> URI')
    return parsed.netloc, parsed.path.lstrip('/')


def positive(kind):
    def parse(value):
        number = kind(value)
        if number <= 0:
            raise argparse.ArgumentTypeError(f'{value} is not greater than 0')
        return number
    return parse


def share(value):
    number = float(value)
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f'{value} is not a share in (0, 1]')
    return number


def dimension(value):
    name, sep, val = value.partition('=')
    if not sep or not name or not val or name == 'Model':
        raise argparse.ArgumentTypeError(f'{value} is not NAME=VALUE with a name other than Model')
    return name, val


def parser():
    p = argparse.ArgumentParser(prog='drift_job', description=__doc__.splitlines()[0])
    p.add_argument('--model', required=True, help='InferenceService name (the metric dimension)')
    p.add_argument('--reference', required=True, type=s3_location, help='s3:// URI of the reference dataset (parquet)')
    p.add_argument('--payload-logs', required=True, type=s3_location,
                   help='s3:// prefix of the model\'s payload logs (<url>/<namespace>/<model>/predictor/<path>/)')
    p.add_argument('--reports', required=True, type=s3_location, help='s3:// prefix the reports go under')
    p.add_argument('--window-minutes', type=positive(int), default=15, help='how far back the current window reaches, in minutes')
    p.add_argument('--features', default='', help='comma-separated feature names, in request order (default: the reference columns)')
    p.add_argument('--drift-share', type=share, default=0.5, help='share of drifted columns that makes the dataset drifted')
    p.add_argument('--min-rows', type=positive(int), default=30, help='fewer rows than this are not tested')
    p.add_argument('--metrics', choices=['cloudwatch', 'log'], default='cloudwatch')
    p.add_argument('--metric-namespace', default='MLOps/Drift')
    p.add_argument('--metric-dimension', type=dimension, action='append', default=[], metavar='NAME=VALUE',
                   help='a dimension the figures carry beside Model, e.g. Stack=<stack name> (repeatable)')
    p.add_argument('--workspace', default='',
                   help='Evidently workspace (s3:// or a folder) to add each run to, for `evidently ui` (default: none)')
    return p


def run(args, s3, cloudwatch, now):
    ref_bucket, ref_key = args.reference
    reference = pandas.read_parquet(io.BytesIO(s3.get_object(Bucket=ref_bucket, Key=ref_key)['Body'].read()))
    features = [f for f in args.features.split(',') if f] or list(reference.columns)
    missing = [f for f in features if f not in reference.columns]
    if missing:
        raise ValueError(f'the reference dataset has no column {missing}')
    reference = reference[features]

    since = now - dt.timedelta(minutes=args.window_minutes)
    bucket, prefix = args.payload_logs
    frames = []
    for key in payloads.list_recent(s3, bucket, prefix, since):
        obj = s3.get_object(Bucket=bucket, Key=key)
        frames.append(payloads.current_rows(payloads.parse_object(key, obj['Body'].read()), features, since, obj['LastModified']))
    current = pandas.concat(frames, ignore_index=True) if frames else pandas.DataFrame(columns=features)
    current = current.astype(reference.dtypes.to_dict()) if len(current) else current

    if len(current) < args.min_rows:
        log.warning('%s: %d rows in the last %d minutes (fewer than %d): not tested', args.model, len(current), args.window_minutes, args.min_rows)
        values = {metrics.ROW_COUNT: len(current)}
    else:
        snapshot, summary = report.compute(reference, current, args.drift_share)
        values = metrics.figures(summary)
        stamp = now.strftime('%Y/%m/%d/%H%M%SZ')
        reports_bucket, reports_prefix = args.reports
        base = '/'.join(p for p in [reports_prefix.rstrip('/'), args.model, stamp] if p)
        s3.put_object(Bucket=reports_bucket, Key=f'{base}-drift.json', Body=snapshot.json().encode(), ContentType='application/json')
        s3.put_object(Bucket=reports_bucket, Key=f'{base}-drift.html', Body=_html(snapshot), ContentType='text/html')
        if args.workspace:
            report.add_to_workspace(args.workspace, args.model, snapshot)
        verdict = 'DRIFT DETECTED' if summary.dataset_drift else 'no drift'
        log.warning('%s: %s: %d of %d columns drifted (share %.2f, threshold %.2f) over %d rows; drifted: %s; reports s3://%s/%s-drift.{html,json}',
                    args.model, verdict, len(summary.drifted_columns), summary.columns, summary.drift_share, args.drift_share,
                    summary.rows, ', '.join(summary.drifted_columns) or '-', reports_bucket, base)
    if args.metrics == 'cloudwatch':
        metrics.publish_cloudwatch(cloudwatch, args.metric_namespace, args.model, values, now, args.metric_dimension)
    else:
        metrics.publish_log(args.model, values, now, args.metric_dimension)
    return values


def _html(snapshot):
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'report.html')
        snapshot.save_html(path)
        with open(path, 'rb') as f:
            return f.read()


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s', stream=sys.stderr)
    args = parser().parse_args(argv)
    try:
        s3 = boto3.client('s3')
        cloudwatch = boto3.client('cloudwatch') if args.metrics == 'cloudwatch' else None
        run(args, s3, cloudwatch, dt.datetime.now(dt.timezone.utc))
    except Exception as error:  # noqa: BLE001 (one clear line and its trace, then a failed Job)
        log.exception('drift check failed for %s: %s: %s', args.model, type(error).__name__, error)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
