"""The MLflow pod of the synthesized manifest, run by the shared pod runner (pods.py).

The substitutions are the runner's: the Secret's URI points at the local PostgreSQL, the listen
address is 127.0.0.1 on a free port (clients still address the manifest's port; mlflow_checks
maps it, as kube-proxy would), and the AWS key pair that EKS Pod Identity would inject is moto's.
"""

import k8s
import mlflow_checks
import pods



def rds_secrets(endpoints, master, server_user, server_password=None):
    """The pod's two database Secrets for an RDS-like database: the server's URI (a role that
    db-bootstrap creates) and the master credentials, which only db-bootstrap reads."""
    import secrets as random
    password = server_password or random.token_urlsafe(18)
    uri = (f'postgresql+psycopg2://{server_user}:{password}@{master["host"]}:{master["port"]}/{master["dbname"]}'
           '?sslmode=require')
    return {endpoints['mlflow']['secretName']: {'uri': uri},
            endpoints['mlflow']['adminSecretName']: {'username': master['username'], 'password': master['password']}}


def pod_spec_of(objects):
    return pods.pod_spec(k8s.find(objects, 'Deployment'))


def run_init_containers(pod_spec, secrets, mounts=None, timeout=300, configmaps=None):
    pods.run_init_containers(pod_spec, secrets, mounts, timeout, configmaps)


def run_server(pod_spec, secrets, ready_timeout=180, configmaps=None):
    """Runs the init containers, then the MLflow server until its readiness probe passes."""
    return pods.run_server(pod_spec, secrets, ready_timeout, configmaps, route=mlflow_checks.route_service_port, name='mlflow')
