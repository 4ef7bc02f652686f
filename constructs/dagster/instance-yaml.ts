import { stringify } from 'yaml';
import { k8s } from 'cdk8s-plus-27';
import { resourceValues } from '../core/workload';

/** Environment variables the database Secret provides; dagster.yaml reads the connection from them. */
export const DAGSTER_PG_ENV = {
  host: 'DAGSTER_PG_HOST',
  port: 'DAGSTER_PG_PORT',
  database: 'DAGSTER_PG_DB',
  username: 'DAGSTER_PG_USERNAME',
  password: 'DAGSTER_PG_PASSWORD',
  /** The same connection as one URI, for the db-bootstrap init container. */
  uri: 'DAGSTER_PG_URI',
};

/** What `instanceYaml` renders. */
export interface InstanceYamlOptions {
  readonly sslMode: string;
  readonly maxConcurrentRuns: number;
  readonly jobNamespace: string;
  readonly runServiceAccount: string;
  readonly instanceConfigMap: string;
  readonly dagsterHome: string;
  readonly databaseSecretName: string;
  readonly runEnvSecretNames: string[];
  /** `NAME=value` for every run pod. */
  readonly runEnvVars: string[];
  readonly runLabels: Record<string, string>;
  /** Plain values (`resourceValues`), as dagster-k8s reads them. */
  readonly runResources: ReturnType<typeof resourceValues>;
  readonly runContainerSecurityContext: k8s.SecurityContext;
  readonly runPodSecurityContext: k8s.PodSecurityContext;
  readonly computeLogBucket: string;
  readonly computeLogPrefix: string;
  readonly s3EndpointUrl?: string;
  readonly awsRegion?: string;
}

/** Camel-case Kubernetes field names as the Python client (and so dagster-k8s) spells them. */
function snake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snake);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`), snake(v)]));
  }
  return value;
}

/**
 * Dagster's `dagster.yaml`: PostgreSQL for runs, event logs and schedules (the connection from the
 * environment, so the file holds no secret), the queued run coordinator, the Kubernetes run
 * launcher with hardened run pods, and compute logs on S3.
 */
export function instanceYaml(o: InstanceYamlOptions): string {
  const env = (name: string) => ({ env: name });
  return stringify({
    storage: {
      postgres: {
        postgres_db: {
          username: env(DAGSTER_PG_ENV.username),
          password: env(DAGSTER_PG_ENV.password),
          hostname: env(DAGSTER_PG_ENV.host),
          db_name: env(DAGSTER_PG_ENV.database),
          port: env(DAGSTER_PG_ENV.port),
          params: { sslmode: o.sslMode },
          // The driver dagster-postgres depends on; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3.
          scheme: 'postgresql+psycopg2',
        },
      },
    },
    run_coordinator: {
      module: 'dagster.core.run_coordinator',
      class: 'QueuedRunCoordinator',
      config: { max_concurrent_runs: o.maxConcurrentRuns, dequeue_interval_seconds: 5 },
    },
    run_launcher: {
      module: 'dagster_k8s',
      class: 'K8sRunLauncher',
      config: {
        load_incluster_config: true,
        job_namespace: o.jobNamespace,
        service_account_name: o.runServiceAccount,
        instance_config_map: o.instanceConfigMap,
        dagster_home: o.dagsterHome,
        image_pull_policy: 'IfNotPresent',
        // The database connection (and any Secrets the user names) as environment variables.
        env_secrets: [o.databaseSecretName, ...o.runEnvSecretNames],
        env_vars: ['HOME=/tmp', 'TMPDIR=/tmp', ...(o.awsRegion ? [`AWS_DEFAULT_REGION=${o.awsRegion}`] : []), ...o.runEnvVars],
        // What a run may add to its pod through the dagster-k8s/config tag: resources, nothing else.
        // Without this, the tag picks any ServiceAccount of the namespace, image, command, token
        // mount and envFrom (the admin Secret included) for the pod the daemon creates.
        only_allow_user_defined_k8s_config_fields: { container_config: { resources: true } },
        only_allow_user_defined_env_vars: [],
        labels: o.runLabels,
        resources: o.runResources,
        security_context: snake(o.runContainerSecurityContext),
        // The root file system is read-only: compute logs and temp files go to a scratch volume.
        volumes: [{ name: 'scratch', emptyDir: {} }],
        volume_mounts: [{ name: 'scratch', mountPath: '/tmp' }],
        fail_pod_on_run_failure: true,
        run_k8s_config: {
          pod_spec_config: {
            security_context: snake(o.runPodSecurityContext),
            automount_service_account_token: false,
          },
          // Finished run Jobs (and their pods) go after a day; the run's record stays in PostgreSQL.
          job_spec_config: { ttl_seconds_after_finished: 86400, backoff_limit: 0 },
        },
      },
    },
    compute_logs: {
      module: 'dagster_aws.s3.compute_log_manager',
      class: 'S3ComputeLogManager',
      config: {
        bucket: o.computeLogBucket,
        prefix: o.computeLogPrefix,
        local_dir: '/tmp/dagster-compute-logs',
        skip_empty_files: true,
        upload_interval: 30,
        ...(o.s3EndpointUrl ? { endpoint_url: o.s3EndpointUrl } : {}),
        ...(o.awsRegion ? { region: o.awsRegion } : {}),
      },
    },
    // Dagster's default is $DAGSTER_HOME/storage, inside the read-only instance mount: the default
    // fs_io_manager of a run would fail on its first output. The scratch volume is writable.
    local_artifact_storage: { module: 'dagster.core.storage.root', class: 'LocalArtifactStorage', config: { base_dir: '/tmp/dagster' } },
    run_monitoring: { enabled: true, start_timeout_seconds: 300, poll_interval_seconds: 60 },
    telemetry: { enabled: false },
  }, { lineWidth: 0 });
}

/** One code server, as the workspace lists it. */
export interface WorkspaceLocation {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** `workspace.yaml`: every code location's gRPC server, by Service name. */
export function workspaceYaml(locations: WorkspaceLocation[]): string {
  return stringify({
    load_from: locations.map(l => ({ grpc_server: { host: l.host, port: l.port, location_name: l.name } })),
  }, { lineWidth: 0 });
}
