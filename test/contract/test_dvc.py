"""Reproducing a training run's data months later: the real DVC against the remote the stack synthesizes.

DVC (pinned, .venv-dvc) is configured with exactly the commands the stack outputs (the endpoint
of the S3 emulator added, as for every contract test). moto enforces IAM for the whole run
(identity.py): the reader and the writer are IAM users whose policies are the documents
`grantRead` / `grantReadWrite` synthesize (and the CI policy's), resolved with moto's account, so
every DVC request is authorized against exactly those statements.
"""
import hashlib
import os
import re
import shutil
import subprocess
import time

import pytest

import k8s
from conftest import report

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DVC = os.path.join(ROOT, '.venv-dvc', 'bin', 'dvc')
ACCOUNT, REGION, PARTITION = '123456789012', 'us-east-1', 'aws'


class Resolver:
    """Resolves the CloudFormation intrinsics a policy or output uses, as CloudFormation would here."""

    def __init__(self, template, refs, attributes):
        self.template, self.refs, self.attributes = template, refs, attributes

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if 'Ref' in value:
            return {'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::Partition': PARTITION}.get(value['Ref']) or self.refs[value['Ref']]
        if 'Fn::GetAtt' in value:
            return self.attributes[tuple(value['Fn::GetAtt'])]
        if 'Fn::Join' in value:
            separator, parts = value['Fn::Join']
            return separator.join(str(self(p)) for p in parts)
        return {k: self(v) for k, v in value.items()}


@pytest.fixture(scope='module')
def rendered():
    return k8s.load_objects('dvc.json')


@pytest.fixture(scope='module')
def aws(services, endpoints, rendered):
    """Buckets and keys as the template declares them, and users with the synthesized policies."""
    url = endpoints['s3EndpointUrl']
    identities = services['identities']
    s3, kms = identities.client('s3'), identities.client('kms')
    template = rendered['template']
    resources = template['Resources']
    refs, attributes = {}, {}
    for name, remote in rendered['remotes'].items():
        bucket = resources[remote['bucket']]['Properties']
        key_arn = kms.create_key(Description=f'contract {name}')['KeyMetadata']['Arn']
        refs[remote['bucket']] = bucket['BucketName']
        attributes[(remote['bucket'], 'Arn')] = f'arn:aws:s3:::{bucket["BucketName"]}'
        attributes[(remote['key'], 'Arn')] = key_arn
        s3.create_bucket(Bucket=bucket['BucketName'])
        assert bucket['VersioningConfiguration'] == {'Status': 'Enabled'}
        s3.put_bucket_versioning(Bucket=bucket['BucketName'], VersioningConfiguration={'Status': 'Enabled'})
        s3.put_bucket_encryption(Bucket=bucket['BucketName'], ServerSideEncryptionConfiguration={'Rules': [
            {'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key_arn}, 'BucketKeyEnabled': True}]})
    resolve = Resolver(template, refs, attributes)

    def user_with(name, documents):
        return identities.user(name, [resolve(d) for d in documents])

    def attached_to(user_id):
        return [r['Properties']['PolicyDocument'] for r in resources.values()
                if r['Type'] == 'AWS::IAM::Policy' and {'Ref': user_id} in r['Properties'].get('Users', [])]

    # The test's own eyes: read-only, and not one of the identities under test.
    auditor = user_with('auditor', [{'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Action': ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetObject', 's3:GetObjectVersion'], 'Resource': '*'}]}])
    credentials = {
        'reader': user_with('dvc-reader', attached_to(rendered['users']['reader'])),
        'writer': user_with('dvc-writer', attached_to(rendered['users']['writer'])),
        'ci': user_with('dvc-ci', [resources[rendered['remotes']['main']['ciPolicy']]['Properties']['PolicyDocument']]),
    }
    commands = {name: [resolve(template['Outputs'][o]['Value']) for o in remote['outputs']] for name, remote in rendered['remotes'].items()}
    return {'credentials': credentials, 'commands': commands, 's3': identities.client('s3', auditor), 'url': url,
            'buckets': {n: refs[r['bucket']] for n, r in rendered['remotes'].items()}}


def dvc(repo, *args, credentials=None, check=True, timeout=900):
    env = {'PATH': f'{os.path.dirname(DVC)}:/usr/bin:/bin', 'HOME': str(repo.parent), 'DVC_NO_ANALYTICS': '1',
           'AWS_DEFAULT_REGION': REGION, **(credentials or {})}
    result = subprocess.run([DVC, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f'dvc {" ".join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}'
    return result


def git(repo, *args):
    subprocess.run(['git', '-c', 'user.name=contract', '-c', 'user.email=contract@example.com', *args], cwd=repo,
                   check=True, capture_output=True)


def configure(repo, commands, url):
    """The stack's own commands, word for word, then the emulator's endpoint."""
    for line in commands:
        for command in line.split(' && '):
            argv = command.split()
            assert argv[0] == 'dvc', command
            dvc(repo, *argv[1:])
    remote = commands[0].split()[4]
    dvc(repo, 'remote', 'modify', remote, 'endpointurl', url)


def write_dataset(folder, version, files=20, size=4096):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for i in range(files):
        with open(os.path.join(folder, f'part-{i:04}.bin'), 'wb') as f:
            f.write(hashlib.sha256(f'{version}-{i}'.encode()).digest() * (size // 32))


def digest(folder):
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        h.update(name.encode())
        h.update(open(os.path.join(folder, name), 'rb').read())
    return h.hexdigest()


def new_repo(path, commands, url):
    os.makedirs(path)
    git(path, 'init', '-q', '-b', 'main')
    dvc(path, 'init', '-q')
    configure(path, commands, url)
    git(path, 'add', '-A')
    git(path, 'commit', '-qm', 'dvc remote from the stack outputs')
    return path


def test_a_dataset_version_is_reproduced_byte_for_byte_from_a_fresh_clone(aws, tmp_path):
    repo = new_repo(tmp_path / 'project', aws['commands']['main'], aws['url'])
    data = repo / 'data'
    write_dataset(data, 'v1')
    first = digest(data)
    dvc(repo, 'add', 'data')
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', 'dataset v1')
    dvc(repo, 'push', credentials=aws['credentials']['ci'])
    write_dataset(data, 'v2')
    dvc(repo, 'add', 'data')
    git(repo, 'commit', '-qam', 'dataset v2')
    dvc(repo, 'push', credentials=aws['credentials']['writer'])

    clone = tmp_path / 'six-months-later'
    subprocess.run(['git', 'clone', '-q', str(repo), str(clone)], check=True, capture_output=True)
    git(clone, 'checkout', '-q', 'HEAD~1')
    dvc(clone, 'pull', credentials=aws['credentials']['reader'])
    assert digest(clone / 'data') == first
    # Every object went under the remote's prefix, nowhere else.
    keys = [o['Key'] for o in aws['s3'].list_objects_v2(Bucket=aws['buckets']['main']).get('Contents', [])]
    assert keys and all(k.startswith('dvc/') for k in keys)


def test_what_the_grants_do_not_allow_is_denied(aws, tmp_path):
    repo = new_repo(tmp_path / 'denied', aws['commands']['main'], aws['url'])
    write_dataset(repo / 'data', 'denied')
    dvc(repo, 'add', 'data')
    # The read-only grant cannot write...
    refused = dvc(repo, 'push', credentials=aws['credentials']['reader'], check=False)
    assert refused.returncode != 0 and 'AccessDenied' in refused.stdout + refused.stderr, refused.stderr[-2000:]
    # ...and the read-write grant cannot write outside the remote's prefix.
    dvc(repo, 'remote', 'add', 'outside', f's3://{aws["buckets"]["main"]}/not-dvc')
    dvc(repo, 'remote', 'modify', 'outside', 'endpointurl', aws['url'])
    outside = dvc(repo, 'push', '-r', 'outside', credentials=aws['credentials']['writer'], check=False)
    # (DVC first checks whether the object exists: HeadObject outside the prefix is refused, 403.)
    assert outside.returncode != 0 and re.search(r'AccessDenied|Forbidden', outside.stdout + outside.stderr), outside.stderr[-2000:]
    # The same push to the remote itself is allowed: the denials above are the policies' doing.
    dvc(repo, 'push', credentials=aws['credentials']['writer'])


def test_with_cloud_versioning_an_overwritten_version_is_still_retrievable(aws, tmp_path, rendered):
    commands = aws['commands']['versioned']
    assert 'version_aware true' in ' '.join(commands)
    repo = new_repo(tmp_path / 'versioned', commands, aws['url'])
    write_dataset(repo / 'data', 'v1', files=3)
    first = open(repo / 'data' / 'part-0000.bin', 'rb').read()
    dvc(repo, 'add', 'data')
    dvc(repo, 'push', credentials=aws['credentials']['writer'])
    write_dataset(repo / 'data', 'v2', files=3)
    dvc(repo, 'add', 'data')
    dvc(repo, 'push', credentials=aws['credentials']['writer'])
    bucket = aws['buckets']['versioned']
    versions = [v for v in aws['s3'].list_object_versions(Bucket=bucket, Prefix='dvc/data/part-0000.bin')['Versions']]
    assert len(versions) == 2
    older = next(v for v in versions if not v['IsLatest'])
    assert aws['s3'].get_object(Bucket=bucket, Key=older['Key'], VersionId=older['VersionId'])['Body'].read() == first
    # And nothing in the template expires that noncurrent version: it is the dataset's history.
    rules = rendered['template']['Resources'][rendered['remotes']['versioned']['bucket']]['Properties'].get('LifecycleConfiguration', {}).get('Rules', [])
    assert not any('NoncurrentVersionExpiration' in r for r in rules)


def test_push_and_pull_throughput(aws, tmp_path):
    repo = new_repo(tmp_path / 'bulk', aws['commands']['main'], aws['url'])
    write_dataset(repo / 'data', 'bulk', files=1000, size=200 * 1024)  # 1,000 files, 200 MB
    dvc(repo, 'add', 'data')
    started = time.monotonic()
    dvc(repo, 'push', credentials=aws['credentials']['writer'])
    push = time.monotonic() - started
    shutil.rmtree(repo / '.dvc' / 'cache')
    shutil.rmtree(repo / 'data')
    started = time.monotonic()
    dvc(repo, 'pull', credentials=aws['credentials']['reader'])
    pull = time.monotonic() - started
    assert len(os.listdir(repo / 'data')) == 1000
    report(f'dvc push of 1,000 files / 200 MB through the emulator (IAM enforced): {push:.1f} s = {1000 / push:.0f} files/s')
    report(f'dvc pull of the same: {pull:.1f} s = {1000 / pull:.0f} files/s')
