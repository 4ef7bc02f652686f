/**
 * Script of the `db-bootstrap` init container, which alone sees the database admin credentials.
 * Every component with a PostgreSQL database of its own runs it (MLflow, Dagster); `uriVariable`
 * names the environment variable holding the component's URI (user, password, host, database).
 *
 * It makes the user of the component's URI a login role that owns the component's database and nothing
 * else: created if missing, its password set from the URI (so a new password takes effect at the
 * next rollout), no superuser/createrole/createdb, CONNECT on the database revoked from PUBLIC (so
 * the roles of other components on a shared instance cannot connect to it, and this role cannot
 * connect to theirs). Objects an earlier release created as the admin role in the `public` schema
 * are handed over, so migrations keep working as the new owner. Runs under an advisory lock, so
 * replicas starting together take turns; every step is idempotent.
 */
export function dbBootstrapScript(uriVariable: string): string {
  return [
  'import os, sys, psycopg2',
  'from psycopg2 import sql',
  'from sqlalchemy.engine import make_url',
  `app = make_url(os.environ["${uriVariable}"])`,
  'admin = os.environ["DB_ADMIN_USERNAME"]',
  'if app.username == admin:',
  '    sys.exit("db-bootstrap: the URI uses the admin role; give the component a role of its own")',
  'tls = {k: app.query[k] for k in ("sslmode", "sslrootcert") if k in app.query}',
  'conn = psycopg2.connect(host=app.host, port=app.port or 5432, dbname=app.database, user=admin,',
  '                        password=os.environ["DB_ADMIN_PASSWORD"], **tls)',
  'conn.autocommit = True',
  'cur = conn.cursor()',
  // Any fixed 64-bit key other than db-upgrade's; this one spells "mlflowbs" in ASCII.
  'cur.execute("SELECT pg_advisory_lock(7884789663531491955)")',
  'role, db = sql.Identifier(app.username), sql.Identifier(app.database)',
  'cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app.username,))',
  'verb = "ALTER" if cur.fetchone() else "CREATE"',
  'cur.execute(sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD %s").format(role), (app.password,))',
  'cur.execute("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication FROM pg_roles WHERE rolname = %s",',
  '            (app.username,))',
  'if cur.fetchone()[0]:',
  '    sys.exit(f"db-bootstrap: role {app.username} has superuser, createrole, createdb, bypassrls or replication; revoke it")',
  // Ownership can only be handed to a role the admin may SET ROLE to (PostgreSQL 15+, RDS included).
  'cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))',
  'cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, role))',
  'cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))',
  'cur.execute("""SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace',
  '    WHERE n.nspname = \'public\' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)',
  '    AND c.relkind IN (\'r\', \'p\', \'v\', \'m\', \'S\')',
  '    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN (\'a\', \'i\'))""")',
  'kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}',
  'moved = cur.fetchall()',
  'for kind, name in moved:',
  '    cur.execute(sql.SQL("ALTER {} public.{} OWNER TO {}").format(sql.SQL(kinds[kind]), sql.Identifier(name), role))',
  'cur.execute("""SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace',
  '    WHERE n.nspname = \'public\' AND t.typtype = \'e\' AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)""")',
  'for (name,) in cur.fetchall():',
  '    cur.execute(sql.SQL("ALTER TYPE public.{} OWNER TO {}").format(sql.Identifier(name), role))',
  'print(f"db-bootstrap: {app.username} owns database {app.database}; {len(moved)} objects handed over")',
].join('\n');
}
