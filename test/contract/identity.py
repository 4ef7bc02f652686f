"""AWS identities under the emulator's IAM enforcement, for the whole contract run.

`services` (conftest.py) turns moto's IAM enforcement on before any test runs and keeps it on, so
no request counts unless an IAM user of the emulator signs it and its policies allow it. A pod's
process gets the key pair of its own Pod Identity role: `pod_env(namespace, service_account)` looks
the ServiceAccount up in identities.json (scripts/contract/identities.ts: the role's synthesized
documents, intrinsics resolved) and makes an IAM user with exactly those documents. A
ServiceAccount without a role gets no key pair at all, as on EKS. Test set-up and assertions use
`admin`, which belongs to no pod.

moto evaluates an identity policy's conditions against no request context, so a statement with
any condition is denied outright. The keys below are the ones our roles use that moto cannot know
(which service forwards a KMS call; the CloudWatch namespace of PutMetricData): their statements
are evaluated without the condition, which jest pins on the template instead
(test/grants.test.ts). Any other condition key fails the run until it is reviewed here. And where
moto names an action differently from AWS (`_moto_actions`), a statement allowing AWS's name
allows moto's too.
"""
import copy
import json
import threading

import boto3
import requests

import k8s

UNEVALUATED_CONDITION_KEYS = {'kms:ViaService', 'cloudwatch:namespace'}


def _moto_actions(action):
    """The names moto checks for an IAM action where they differ from AWS's: HeadBucket, which AWS
    authorizes as s3:ListBucket, and CloudWatch's actions, which moto prefixes with the endpoint's
    name (monitoring:) instead of the IAM service prefix (cloudwatch:)."""
    if action == 's3:ListBucket':
        return ['s3:HeadBucket']
    if action.startswith('cloudwatch:'):
        return ['monitoring:' + action.split(':', 1)[1]]
    return []


_ADMIN_POLICY = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}

_current = None


def current():
    if _current is None:
        raise RuntimeError('AWS identities exist only under the `services` fixture (IAM enforced)')
    return _current


def _evaluable(document):
    document = copy.deepcopy(document)
    for statement in document['Statement']:
        actions = [statement['Action']] if isinstance(statement['Action'], str) else statement['Action']
        statement['Action'] = [*actions, *(moto for action in actions for moto in _moto_actions(action))]
        condition = statement.pop('Condition', {})
        keys = {key for operator in condition.values() for key in operator}
        unknown = keys - UNEVALUATED_CONDITION_KEYS
        if unknown:
            raise AssertionError(f'condition keys {sorted(unknown)} are neither evaluated by the emulator nor reviewed in identity.py')
    return document


class Identities:
    def __init__(self, url, region, bootstrap):
        self.url, self.region = url, region
        self.policies = k8s.load_objects('identities.json')
        self._iam = boto3.client('iam', endpoint_url=url, region_name=region, aws_access_key_id=bootstrap['AWS_ACCESS_KEY_ID'],
                                 aws_secret_access_key=bootstrap['AWS_SECRET_ACCESS_KEY'])
        self._users, self._lock = {}, threading.Lock()
        self.admin = self.user('contract-admin', [_ADMIN_POLICY])
        self._iam = self.client('iam')

    def user(self, name, documents):
        """An IAM user with exactly `documents` (cached by name); its key pair as env vars."""
        with self._lock:
            if name not in self._users:
                self._iam.create_user(UserName=name)
                for i, document in enumerate(documents):
                    self._iam.put_user_policy(UserName=name, PolicyName=f'{name}-{i}', PolicyDocument=json.dumps(_evaluable(document)))
                key = self._iam.create_access_key(UserName=name)['AccessKey']
                self._users[name] = {'AWS_ACCESS_KEY_ID': key['AccessKeyId'], 'AWS_SECRET_ACCESS_KEY': key['SecretAccessKey']}
            return dict(self._users[name])

    def declare(self, policies):
        """Roles of a stack synthesized during the run (`<namespace>/<serviceAccount>`: documents), beside identities.json's."""
        for account, documents in policies.items():
            assert self.policies.get(account, documents) == documents, f'{account} already has other policies'
            self.policies[account] = documents

    def role(self, arn, trust, documents, stand_ins):
        """An IAM role of the emulator named as in `arn`, with exactly `documents`, that `trust` lets
        assume. The emulator checks a trust policy's principal against the caller's own ARN, and a
        pod calls as the user that stands for its role (`pod_env`), so each role ARN `stand_ins`
        maps to `(namespace, service_account)` is named by that user's ARN in the trust instead."""
        trust = copy.deepcopy(trust)
        for statement in trust['Statement']:
            principals = statement.get('Principal', {}).get('AWS')
            if principals is not None:
                statement['Principal']['AWS'] = [self._user_arn(*stand_ins[p]) if p in stand_ins else p
                                                 for p in ([principals] if isinstance(principals, str) else principals)]
        name = arn.rsplit('/', 1)[1]
        with self._lock:
            self._iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_evaluable(trust)))
            for i, document in enumerate(documents):
                self._iam.put_role_policy(RoleName=name, PolicyName=f'{name}-{i}', PolicyDocument=json.dumps(_evaluable(document)))

    def _user_arn(self, namespace, service_account):
        self.pod_env(namespace, service_account)
        return self._iam.get_user(UserName=f'pod.{namespace}.{service_account}')['User']['Arn']

    def assume(self, credentials, role_arn, session='contract'):
        """Credentials of `role_arn` for whoever holds `credentials` (the emulator checks both sides)."""
        got = self.client('sts', credentials).assume_role(RoleArn=role_arn, RoleSessionName=session)['Credentials']
        return {'AWS_ACCESS_KEY_ID': got['AccessKeyId'], 'AWS_SECRET_ACCESS_KEY': got['SecretAccessKey'], 'AWS_SESSION_TOKEN': got['SessionToken']}

    def pod_env(self, namespace, service_account):
        """What EKS Pod Identity gives a pod of `namespace/service_account`: its role's key pair, or nothing."""
        documents = self.policies.get(f'{namespace}/{service_account or "default"}')
        if documents is None:
            return {}
        return self.user(f'pod.{namespace}.{service_account}', documents)

    def client(self, service, credentials=None):
        credentials = credentials or self.admin
        return boto3.client(service, endpoint_url=self.url, region_name=self.region, aws_access_key_id=credentials['AWS_ACCESS_KEY_ID'],
                            aws_secret_access_key=credentials['AWS_SECRET_ACCESS_KEY'], aws_session_token=credentials.get('AWS_SESSION_TOKEN'))


def enforce(url, region, bootstrap):
    """Makes the admin, then turns enforcement on for the rest of the emulator's life."""
    global _current
    _current = Identities(url, region, bootstrap)
    response = requests.post(f'{url}/moto-api/reset-auth', data='0', timeout=10)
    assert response.status_code == 200, response.text
    # The key the emulator accepted before is refused from now on: nothing runs unevaluated.
    try:
        boto3.client('s3', endpoint_url=url, region_name=region, aws_access_key_id=bootstrap['AWS_ACCESS_KEY_ID'],
                     aws_secret_access_key=bootstrap['AWS_SECRET_ACCESS_KEY']).list_buckets()
    except Exception as error:  # noqa: BLE001 (botocore's ClientError, whatever its code)
        assert 'InvalidAccessKeyId' in str(error) or 'AccessDenied' in str(error) or 'InvalidClientTokenId' in str(error), error
    else:
        raise AssertionError('the emulator still accepts a key pair that is no IAM user')
    return _current


def pod_env(namespace, service_account):
    return current().pod_env(namespace, service_account)
