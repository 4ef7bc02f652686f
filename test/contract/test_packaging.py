"""The library as users install it: `npm pack` into a fresh TypeScript app with the lowest supported
versions, and the jsii-pacmak wheel into a fresh Python venv with the packages from PyPI.

The Python app's template must equal the one the same app synthesizes in TypeScript with the same
releases (the lowest supported, which PyPI and npm both serve), metadata aside; so must the MLflow
chart it renders. The TypeScript app's must equal this checkout's own synth but for the asset keys
of aws-cdk-lib's handlers, which move with its release.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import report

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CONSUMERS = os.path.join(os.path.dirname(__file__), 'consumers')
PACKAGE = json.load(open(os.path.join(ROOT, 'package.json')))
# The version each peer dependency's range starts at: what we promise to support.
LOWEST = {name: spec.lstrip('^~') for name, spec in PACKAGE['peerDependencies'].items()}
PINNED = PACKAGE['devDependencies']
# PyPI names of the jsii libraries we build on.
PYPI = {'aws-cdk-lib': 'aws-cdk-lib', 'constructs': 'constructs', 'cdk8s': 'cdk8s', 'cdk8s-plus-27': 'cdk8s-plus-27',
        '@aws-cdk/lambda-layer-kubectl-v35': 'aws-cdk.lambda-layer-kubectl-v35'}


def run(argv, cwd, timeout=900, env=None):
    started = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f'{" ".join(argv)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return time.monotonic() - started


def normalized(template_file):
    """The template without what differs by toolchain, not by content: metadata and the CDKMetadata resource."""
    template = json.load(open(template_file))
    template['Resources'].pop('CDKMetadata', None)
    template.get('Conditions', {}).pop('CDKMetadataAvailable', None)
    for resource in template['Resources'].values():
        resource.pop('Metadata', None)
    return template


@pytest.fixture(scope='module')
def built():
    seconds = run(['npm', 'run', 'build', '--silent'], ROOT)
    report(f'jsii build (npm run build): {seconds:.1f} s')


@pytest.fixture(scope='module')
def tarball(built, tmp_path_factory):
    out = tmp_path_factory.mktemp('pack')
    run(['npm', 'pack', '--pack-destination', str(out), '--silent'], ROOT)
    [path] = glob.glob(str(out / '*.tgz'))
    report(f'npm package: {os.path.getsize(path) / 1024:.0f} KiB')
    return path


@pytest.fixture(scope='module')
def typescript_reference(built, tmp_path_factory):
    """The consumer app run against this checkout with the pinned releases (the Python app's twin)."""
    out = tmp_path_factory.mktemp('ts-reference')
    app = os.path.join(out, 'app.ts')
    shutil.copy(os.path.join(CONSUMERS, 'ts', 'app.ts'), app)
    # Resolve 'cdk-mlops-stack' to this checkout's compiled entry point.
    os.makedirs(os.path.join(out, 'node_modules'))
    os.symlink(ROOT, os.path.join(out, 'node_modules', 'cdk-mlops-stack'))
    for name in ('aws-cdk-lib', 'cdk8s', 'constructs'):
        os.symlink(os.path.join(ROOT, 'node_modules', name), os.path.join(out, 'node_modules', name))
    seconds = run(['node', '-r', os.path.join(ROOT, 'scripts', 'register.js'), app], out)
    report(f'TypeScript synth of the consumer app (reference stack + MLflow chart): {seconds:.1f} s')
    return out


@pytest.fixture(scope='module')
def typescript_app(tarball, tmp_path_factory):
    """A fresh TypeScript app: the packed library with the lowest supported releases, from npm."""
    app = tmp_path_factory.mktemp('ts-consumer') / 'app'
    shutil.copytree(os.path.join(CONSUMERS, 'ts'), app)
    (app / 'package.json').write_text(json.dumps({
        'name': 'consumer', 'private': True, 'version': '0.0.0',
        'dependencies': {'cdk-mlops-stack': f'file:{tarball}', **LOWEST},
        'devDependencies': {'typescript': PINNED['typescript']},
    }))
    run(['npm', 'install', '--no-audit', '--no-fund'], app)
    run(['npx', 'tsc', '-p', '.'], app)  # strict, and our .d.ts are checked too (skipLibCheck off)
    seconds = run(['node', 'app.js'], app)
    report(f'TypeScript synth of the consumer app with the lowest releases: {seconds:.1f} s')
    return app


def test_a_typescript_app_with_the_lowest_supported_versions(typescript_app, typescript_reference):
    app = typescript_app
    copies = subprocess.run(['npm', 'ls', 'aws-cdk-lib', '--all', '--parseable'], cwd=app, capture_output=True, text=True).stdout.split()
    assert sorted(set(copies)) == [str(app / 'node_modules' / 'aws-cdk-lib')]
    for name, version in LOWEST.items():
        assert json.load(open(app / 'node_modules' / name / 'package.json'))['version'] == version, name
    ours, lowest = normalized(os.path.join(typescript_reference, 'cdk.out', 'MlopsStack.template.json')), normalized(app / 'cdk.out' / 'MlopsStack.template.json')
    # Same resources with the same properties; only the asset keys of aws-cdk-lib's own handlers move with its release.
    assert sorted(lowest['Resources']) == sorted(ours['Resources'])
    differing = [k for k in ours['Resources'] if json.dumps(ours['Resources'][k]) != json.dumps(lowest['Resources'][k])]
    assert all(ours['Resources'][k]['Type'] == 'AWS::Lambda::Function' for k in differing), differing
    assert (app / 'cdk8s.out' / 'mlflow.k8s.yaml').read_text() == open(os.path.join(typescript_reference, 'cdk8s.out', 'mlflow.k8s.yaml')).read()


@pytest.fixture(scope='module')
def wheel(built, tmp_path_factory):
    out = tmp_path_factory.mktemp('pacmak')
    seconds = run(['npx', 'jsii-pacmak', '--targets', 'python', '--outdir', str(out)], ROOT, timeout=1800)
    [path] = glob.glob(str(out / 'python' / '*.whl'))
    report(f'jsii-pacmak Python build: {seconds:.1f} s; wheel {os.path.getsize(path) / 1024:.0f} KiB')
    return path


def test_a_python_app_synthesizes_the_same_stack_and_chart(wheel, typescript_app, tmp_path):
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', str(venv)], tmp_path)
    pip = [str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input']
    # The TypeScript app's releases (the lowest supported), so the templates can be compared exactly.
    pinned = [f'{PYPI[name]}=={LOWEST.get(name) or PACKAGE["dependencies"][name]}' for name in PYPI]
    run(pip + [wheel, *pinned], tmp_path)
    app = tmp_path / 'app'
    shutil.copytree(os.path.join(CONSUMERS, 'python'), app)
    env = {**os.environ, 'PATH': f'{venv / "bin"}:{os.environ["PATH"]}'}
    seconds = run([str(venv / 'bin' / 'python'), 'app.py'], app, env=env)
    report(f'Python synth of the consumer app (reference stack + MLflow chart): {seconds:.1f} s')
    python_template = normalized(app / 'cdk.out' / 'MlopsStack.template.json')
    assert len(python_template['Resources']) > 50
    assert python_template == normalized(typescript_app / 'cdk.out' / 'MlopsStack.template.json')
    assert (app / 'cdk8s.out' / 'mlflow.k8s.yaml').read_text() == (typescript_app / 'cdk8s.out' / 'mlflow.k8s.yaml').read_text()
