"""Debian's PostgreSQL and Redis and moto's S3 server on 127.0.0.1, started and stopped by the tests."""
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def _wait_port(port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f'nothing listens on 127.0.0.1:{port} after {timeout}s')


def _assert_free(port):
    with socket.socket() as s:
        if s.connect_ex(('127.0.0.1', port)) == 0:
            raise RuntimeError(f'127.0.0.1:{port} is already in use; stop what holds it')


class DatabaseUri(str):
    """A URI that also carries its parts, shaped like an RDS-generated secret."""

    def __new__(cls, uri, fields):
        value = super().__new__(cls, uri)
        value.fields = fields
        return value


@contextlib.contextmanager
def postgres(port):
    """A throw-away cluster; yields a function that creates a database and returns its URI."""
    _assert_free(port)
    bindir = sorted(glob.glob('/usr/lib/postgresql/*/bin'))[-1]
    # PostgreSQL refuses to run as root; as root we run it as Debian's `postgres` user.
    as_postgres = ['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else []
    home = tempfile.mkdtemp(prefix='contract-pg-')
    data, pwfile = os.path.join(home, 'data'), os.path.join(home, 'pwfile')
    with open(pwfile, 'w') as f:
        f.write('postgres-admin\n')
    if as_postgres:
        for path in (home, pwfile):
            shutil.chown(path, 'postgres', 'postgres')
    subprocess.run(as_postgres + [f'{bindir}/initdb', '-D', data, '-A', 'scram-sha-256', '-U', 'postgres',
                                  f'--pwfile={pwfile}'], check=True, capture_output=True)
    # TLS like RDS with rds.force_ssl, so URIs with sslmode=require are exercised for real.
    # Named for its address, as RDS's certificates are for their endpoint: sslmode=verify-full checks it.
    cert, key = self_signed_certificate(home)
    if as_postgres:
        for path in (cert, key):
            shutil.chown(path, 'postgres', 'postgres')
    subprocess.run(as_postgres + [f'{bindir}/pg_ctl', '-D', data, '-w', '-l', f'{data}/server.log', 'start', '-o',
                                  f'-c listen_addresses=127.0.0.1 -p {port} -k {home} -c max_connections=200 '
                                  f'-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}'],
                   check=True, capture_output=True)
    try:
        _wait_port(port)

        def create_owned_database(name, owner, password, attributes=''):
            """Creates the login role `owner` and the database `name` it owns."""
            import psycopg2
            admin = psycopg2.connect(host='127.0.0.1', port=port, user='postgres', password='postgres-admin', dbname='postgres')
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'CREATE ROLE "{owner}" LOGIN {attributes} PASSWORD %s', (password,))
                cur.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
            admin.close()
            return {'username': owner, 'password': password, 'host': '127.0.0.1', 'port': port, 'dbname': name}

        def create_database(name, password=None):
            """Creates a role and database `name`; returns a psycopg2 URI (and, as .fields, its parts)."""
            fields = create_owned_database(name, name, password or secrets.token_urlsafe(18))
            return DatabaseUri(f'postgresql+psycopg2://{name}:{fields["password"]}@127.0.0.1:{port}/{name}', fields)

        def create_rds_database(name, password=None):
            """A database as RDS makes one: owned by a master role that may create roles and databases but
            is no superuser (RDS's rds_superuser is not one either). Returns the master secret's fields."""
            return create_owned_database(name, f'{name}_master', password or secrets.token_urlsafe(18), 'CREATEROLE CREATEDB')

        create_database.rds = create_rds_database
        with open(cert) as f:
            create_database.server_ca = f.read()
        create_database.superuser_uri = f'postgresql+psycopg2://postgres:postgres-admin@127.0.0.1:{port}'
        yield create_database
    finally:
        subprocess.run(as_postgres + [f'{bindir}/pg_ctl', '-D', data, '-m', 'fast', 'stop'], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


# moto accepts any key pair; these stand in for what EKS Pod Identity gives the server pod.
EMULATOR_CREDENTIALS = {'AWS_ACCESS_KEY_ID': 'contract-test', 'AWS_SECRET_ACCESS_KEY': 'contract-test'}


@contextlib.contextmanager
def s3_emulator(port):
    _assert_free(port)
    log = tempfile.NamedTemporaryFile(prefix='contract-moto-', suffix='.log', delete=False)
    # moto's server with the one resource it does not know (moto_server.py says which).
    proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), 'moto_server.py'), '-H', '127.0.0.1', '-p', str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(port)
        yield f'http://127.0.0.1:{port}'
    finally:
        proc.terminate()
        proc.wait(10)
        os.unlink(log.name)


def self_signed_certificate(folder):
    """A certificate for 127.0.0.1 (its own CA), as managed services name theirs for their endpoint."""
    cert, key = os.path.join(folder, 'server.crt'), os.path.join(folder, 'server.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


@contextlib.contextmanager
def redis_tls(port, password, users=()):
    """Debian's redis-server as ElastiCache runs it for the stack: TLS only (no plain port), and
    either AUTH (`password`) or, given `users` as (name, access string, password), those ACL users
    as ElastiCache RBAC creates them; the test itself then signs in as `contract-admin` with
    `password`, a user the stack does not have."""
    _assert_free(port)
    home = tempfile.mkdtemp(prefix='contract-redis-')
    cert, key = self_signed_certificate(home)
    config = os.path.join(home, 'redis.conf')
    with open(config, 'w') as f:
        # ElastiCache takes the same access-string syntax as the ACL rules of a `user` directive.
        for name, access, secret in users:
            f.write(f'user {name} reset {access} >{secret}\n')
        if users:
            f.write(f'user contract-admin on ~* &* +@all >{password}\n')
    auth = [] if users else ['--requirepass', password]
    proc = subprocess.Popen(['redis-server', config, '--port', '0', '--tls-port', str(port), '--bind', '127.0.0.1',
                             '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no',
                             *auth, '--save', '', '--appendonly', 'no', '--dir', home],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        yield {'port': port, 'password': password, 'ca_file': cert, 'admin': 'contract-admin' if users else None}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)
