/**
 * Script of the `db-upgrade` init container: `mlflow db upgrade` (which also creates the schema in
 * an empty database) run in-process, so the URI stays out of the process list, while holding a
 * PostgreSQL advisory lock. Replicas that start together queue on the lock; the later ones find
 * the schema current and return at once. The lock is tied to the session, so a killed pod
 * releases it. With basic auth on (MLFLOW_AUTH_CONFIG_PATH set), the auth schema is migrated and
 * the admin user created under the same lock: MLflow would otherwise do both in every replica at
 * once, and its auth migrations are not safe to run concurrently.
 */
export const MIGRATE_SCRIPT = [
  'import os, sqlalchemy',
  'from mlflow.db import commands',
  'uri = os.environ["MLFLOW_BACKEND_STORE_URI"]',
  'engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)',
  'with engine.connect() as lock:',
  // Any fixed 64-bit key works; this one spells "mlflowdb" in ASCII.
  '    lock.execute(sqlalchemy.text("SELECT pg_advisory_lock(7884789663531492450)"))',
  '    commands.main(args=["upgrade", uri], standalone_mode=False)',
  '    if os.environ.get("MLFLOW_AUTH_CONFIG_PATH"):',
  '        from mlflow.server.auth import bootstrap_admin_user',
  '        bootstrap_admin_user()',
  'print("mlflow db upgrade: schema is current")',
].join('\n');
