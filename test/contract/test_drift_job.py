"""The drift job's own tests (jobs/drift/tests), in its pinned environment (.venv-drift): payload
parsing of every format and protocol, windowing, drift and no drift with Evidently, reports, metrics
on moto's CloudWatch, and the failure path."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_drift_jobs_tests_pass_in_its_pinned_environment():
    env = {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('TMPDIR', '/tmp'), 'LANG': 'C.UTF-8'}
    result = subprocess.run([os.path.join(ROOT, '.venv-drift', 'bin', 'python'), '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                             os.path.join(ROOT, 'jobs', 'drift', 'tests')], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.search(r'(\d+) passed', result.stdout).group(1))
    assert passed >= 13, result.stdout[-2000:]
