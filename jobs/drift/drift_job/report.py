"""Per-column and dataset drift with Evidently's current API (0.7: Report + DataDriftPreset)."""
import uuid
from dataclasses import dataclass, field

from evidently import Report
from evidently.presets import DataDriftPreset


@dataclass
class DriftSummary:
    rows: int
    columns: int
    drifted_columns: list = field(default_factory=list)
    drift_share: float = 0.0
    dataset_drift: bool = False


def compute(reference, current, drift_share):
    """Runs the drift preset on `current` against `reference`; returns the snapshot and a summary.

    Evidently decides per column (its default method for the column's type and size) and marks the
    dataset drifted when the share of drifted columns reaches `drift_share`: the preset's tests say
    which (a failed ValueDrift test per drifted column, a failed share test for the dataset).
    """
    snapshot = Report([DataDriftPreset(drift_share=drift_share)], include_tests=True).run(current, reference)
    result = snapshot.dict()
    share = next(m['value']['share'] for m in result['metrics'] if m['config']['type'].endswith(':DriftedColumnsCount'))
    drifted, dataset_drift = [], False
    for test in result['tests']:
        params = test['metric_config']['params']
        if params['type'].endswith(':ValueDrift') and test['status'] == 'FAIL':
            drifted.append(params['column'])
        if params['type'].endswith(':DriftedColumnsCount') and test['status'] == 'FAIL':
            dataset_drift = True
    summary = DriftSummary(rows=len(current), columns=len(reference.columns), drifted_columns=sorted(drifted),
                           drift_share=float(share), dataset_drift=dataset_drift)
    return snapshot, summary


# Projects get IDs derived from the model's name, so a check's role may write under its own
# model's project folder only (lib/evidently/evidently.ts computes the same UUID for the grant).
PROJECT_NAMESPACE = uuid.UUID('6f7c1c55-2e0b-5b8e-9d4e-6d1f3b7a9c21')


def project_id(model):
    return uuid.uuid5(PROJECT_NAMESPACE, model)


def add_to_workspace(path, model, snapshot):
    """Adds the run to the model's project (created on first use, with the model's own ID) in an
    Evidently workspace, the one `evidently ui --workspace <path>` serves; on S3 through fsspec (s3fs)."""
    from evidently.sdk.models import ProjectModel
    from evidently.ui.workspace import Workspace
    workspace = Workspace(path)
    pid = project_id(model)
    project = workspace.get_project(pid) or workspace.add_project(
        ProjectModel(id=pid, name=model, description=f'Drift of the live traffic of {model}'))
    workspace.add_run(project.id, snapshot, include_data=False)
