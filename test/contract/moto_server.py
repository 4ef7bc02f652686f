"""moto's server, taught which resource AWS authorizes a Secrets Manager call against.

moto (5.2.5) evaluates every Secrets Manager request against the resource `*`, so a policy that
names a secret's ARN, as every grant of the stack does, never matches and a role scoped to one
secret could read none. AWS evaluates such a call against the ARN of the secret it names
(Service Authorization Reference, AWS Secrets Manager: "secret" resource type), which is what the
resource here is. Everything else is moto's server unchanged.
"""
import sys

from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main


def _secret_resource(self):
    secret_id = self._get_param('SecretId')
    if not secret_id:
        return '*'
    secret = self.backend.secrets.get(secret_id)
    if secret is not None:
        return secret.arn
    # A secret that does not exist: the ARN the request names, so a denial still reads as one.
    return secret_id if secret_id.startswith('arn:') else f'arn:aws:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}'


SecretsManagerResponse._determine_resource = _secret_resource

if __name__ == '__main__':
    sys.exit(main())
