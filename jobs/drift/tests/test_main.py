import datetime as dt
import json

import pytest
from conftest import NOW, frame, put_json_batches, put_reference

from drift_job import __main__ as job

ARGS = ['--model', 'iris', '--payload-logs', 's3://payloads/payload-logs/models/iris/predictor/predictions/', '--reports', 's3://reports/drift',
        '--window-minutes', '15', '--drift-share', '0.3']


def metric(cloudwatch, name):
    points = cloudwatch.get_metric_statistics(Namespace='MLOps/Drift', MetricName=name, Dimensions=[{'Name': 'Model', 'Value': 'iris'}],
                                              StartTime=NOW - dt.timedelta(hours=1), EndTime=NOW + dt.timedelta(hours=1),
                                              Period=60, Statistics=['Maximum'])['Datapoints']
    return max(p['Maximum'] for p in points) if points else None


def run(aws, extra=()):
    args = job.parser().parse_args(['--reference', put_reference(aws['s3']), *ARGS, *extra])
    return job.run(args, aws['s3'], aws['cloudwatch'], NOW)


def test_traffic_like_the_reference_is_not_drift(aws):
    put_json_batches(aws['s3'], frame(500, seed=2), NOW - dt.timedelta(minutes=1))
    values = run(aws)
    assert values['RowCount'] == 500 and values['DriftShare'] < 0.3
    assert metric(aws['cloudwatch'], 'RowCount') == 500


def test_shifted_traffic_is_drift_with_both_reports_under_a_dated_prefix(aws, caplog):
    shifted = frame(500, seed=3)
    shifted[['f0', 'f1', 'f2']] += 2.0
    put_json_batches(aws['s3'], shifted, NOW - dt.timedelta(minutes=1), protocol='v2')
    values = run(aws)
    assert values['DriftedColumns'] == 3 and values['DriftShare'] == pytest.approx(0.5)
    assert metric(aws['cloudwatch'], 'DriftShare') == pytest.approx(0.5)
    keys = sorted(o['Key'] for o in aws['s3'].list_objects_v2(Bucket='reports')['Contents'])
    stamp = NOW.strftime('%Y/%m/%d/%H%M%SZ')
    assert keys == [f'drift/iris/{stamp}-drift.html', f'drift/iris/{stamp}-drift.json']
    assert 'DRIFT DETECTED: 3 of 6 columns drifted' in caplog.text and 'f0, f1, f2' in caplog.text


def test_records_outside_the_window_are_left_out(aws):
    put_json_batches(aws['s3'], frame(100, shift=3.0, seed=4), NOW - dt.timedelta(minutes=30))
    put_json_batches(aws['s3'], frame(100, seed=5), NOW - dt.timedelta(minutes=1))
    assert run(aws)['RowCount'] == 100


def test_extra_dimensions_keep_two_deployments_figures_apart(aws):
    put_json_batches(aws['s3'], frame(100, seed=2), NOW - dt.timedelta(minutes=1))
    run(aws, ['--metric-dimension', 'Stack=dev-mlops'])
    by_stack = aws['cloudwatch'].get_metric_statistics(
        Namespace='MLOps/Drift', MetricName='RowCount', Dimensions=[{'Name': 'Model', 'Value': 'iris'}, {'Name': 'Stack', 'Value': 'dev-mlops'}],
        StartTime=NOW - dt.timedelta(hours=1), EndTime=NOW + dt.timedelta(hours=1), Period=60, Statistics=['Maximum'])['Datapoints']
    # CloudWatch keeps each set of dimensions a metric of its own, so an alarm on Model and Stack sees
    # only this deployment's figures (moto matches a subset of dimensions too, so only the positive
    # side is shown here).
    assert [p['Maximum'] for p in by_stack] == [100]


def test_figures_go_to_the_log_with_their_dimensions(aws, capfd):
    put_json_batches(aws['s3'], frame(100, seed=2), NOW - dt.timedelta(minutes=1))
    run(aws, ['--metrics', 'log', '--metric-dimension', 'Stack=dev-mlops'])
    line = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert line['metric'] == 'drift' and line['model'] == 'iris' and line['dimensions'] == {'Stack': 'dev-mlops'} and line['RowCount'] == 100


def test_too_few_rows_publish_the_count_only(aws):
    put_json_batches(aws['s3'], frame(5, seed=6), NOW - dt.timedelta(minutes=1))
    assert run(aws) == {'RowCount': 5}
    assert metric(aws['cloudwatch'], 'DriftShare') is None
    assert 'Contents' not in aws['s3'].list_objects_v2(Bucket='reports')


def test_a_failed_run_exits_1_with_one_clear_line(aws, caplog):
    code = job.main(['--reference', 's3://data/missing.parquet', *ARGS])
    assert code == 1
    assert 'drift check failed for iris: NoSuchKey' in caplog.text


def test_bad_arguments_are_refused(capsys):
    for bad in (['--window-minutes', '0'], ['--drift-share', '1.5'], ['--reports', 'gs://x/y'],
                ['--metric-dimension', 'Stack'], ['--metric-dimension', 'Model=other'], ['--metric-dimension', '=x'], ['--metric-dimension', 'Stack=']):
        with pytest.raises(SystemExit):
            job.parser().parse_args(['--model', 'm', '--reference', 's3://a/b', '--payload-logs', 's3://a/c', '--reports', 's3://a/d', *bad])


def test_runs_join_the_models_project_in_a_workspace(aws, tmp_path):
    put_json_batches(aws['s3'], frame(200, seed=7), NOW - dt.timedelta(minutes=1))
    run(aws, ['--workspace', str(tmp_path / 'workspace')])
    run(aws, ['--workspace', str(tmp_path / 'workspace')])
    from evidently.ui.workspace import Workspace
    workspace = Workspace(str(tmp_path / 'workspace'))
    [project] = workspace.search_project('iris')
    assert len(workspace.list_runs(project.id)) == 2
    # The project's folder is the model's own (its ID derived from the name), which the grant names.
    from drift_job.report import project_id
    assert project.id == project_id('iris')
    assert sorted(p.name for p in (tmp_path / 'workspace').iterdir() if p.is_dir()) == [str(project_id('iris'))]
