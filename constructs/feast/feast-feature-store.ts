import { createHash } from 'crypto';
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertCronSchedule } from '../core/cron';
import { assertDnsLabel, assertPositiveInteger, InvalidPropError, isUnresolved } from '../core/errors';
import { selectorLabels, standardLabels } from '../core/labels';
import { clientPeers } from '../core/network';
import { resolveProfile, StackProfile } from '../core/profile';
import { FEAST_DEFAULTS, FeastSizing } from './defaults';
import {
  clusterIpService, disruptionBudget, restrictedPodSpec, ServerIdentity, serverNetworkPolicy, serviceAccount,
} from '../core/server';
import { httpProbes, resources, restrictedContainerSecurityContext, rollWithoutDowntime, zoneSpread } from '../core/workload';
import { FEAST_IMAGE, imageRef } from '../versions';
import { featureStoreYaml, REDIS_PASSWORD_ENV, REDIS_USERNAME_ENV } from './feature-store-yaml';
import { S3_BRIDGE_MODULE } from './s3-bridge';

/** Label a pod must carry, in one of the client namespaces, for the NetworkPolicy to let it reach the feature server. */
export const FEAST_CLIENT_LABEL = 'feast.cdk-mlops-stack.io/client';

/** The feature server's HTTP port (Feast's default for `feast serve`). */
export const FEAST_PORT = 6566;

/** Where the ConfigMap is mounted; `feature_store.yaml` is in it. */
export const FEAST_CONFIG_DIR = '/etc/feast';

/** Feast's `provider`. Both run the online and offline stores this library configures. */
export enum FeastProvider {
  /** The provider that runs anywhere. */
  LOCAL = 'local',
  /** The AWS provider (same stores here; it matters to feature views that use AWS-only sources). */
  AWS = 'aws',
}

/** Feast's `redis_type`: how the client talks to the server(s) of the connection string. */
export enum FeastRedisType {
  /** One primary (a replication group without cluster mode, or one node): Feast uses the first address. */
  REDIS = 'redis',
  /** Redis Cluster (cluster mode, e.g. ElastiCache Serverless): keys are spread over shards. */
  REDIS_CLUSTER = 'redis_cluster',
}

/** The Redis-protocol online store. The password comes from a Secret; it is never in the manifest. */
export interface FeastOnlineStoreOptions {
  /**
   * `host:port`, or several `host:port` separated by commas for Redis Cluster. Client parameters
   * are set by the other options; a `password=` here is refused.
   */
  readonly connectionString: string;
  /**
   * How the client talks to the server; must match the server (cluster mode or not).
   * @default FeastRedisType.REDIS
   */
  readonly redisType?: FeastRedisType;
  /**
   * Connect with TLS (`ssl=true`), verified against the image's CA bundle.
   * @default true
   */
  readonly tls?: boolean;
  /** Secret holding the password of the feature server and clients (an ACL user's, or the AUTH token). */
  readonly passwordSecretName: string;
  /**
   * Key of the password in that Secret.
   * @default 'password'
   */
  readonly passwordSecretKey?: string;
  /**
   * ACL user of the feature server and clients (Redis 6+ / Valkey ACL, ElastiCache RBAC). Give it
   * read commands only: the server then cannot write whatever a client pushes to it.
   * @default - none: the password alone authenticates (`requirepass` or an AUTH token)
   */
  readonly username?: string;
  /**
   * The credentials materialization (and `feast apply` from CI) writes with, when the server's may
   * only read. Needs `username`.
   * @default - the same credentials as the server, which must then be allowed to write
   */
  readonly writer?: FeastRedisCredentials;
  /**
   * Seconds after which Redis drops an entity's features (`key_ttl_seconds`).
   * @default - never; features stay until overwritten
   */
  readonly keyTtlSeconds?: number;
  /**
   * Labels the server's NetworkPolicy asks of client pods (e.g. `RedisServer.clientLabels` of an
   * in-cluster Redis); put on the feature server and materialization pods.
   * @default - none
   */
  readonly clientPodLabels?: { [key: string]: string };
}

/** A Redis ACL user and where its password is. */
export interface FeastRedisCredentials {
  /** The ACL user name. */
  readonly username: string;
  /** Secret holding the user's password. */
  readonly passwordSecretName: string;
  /**
   * Key of the password in that Secret.
   * @default 'password'
   */
  readonly passwordSecretKey?: string;
}

/** The materialization CronJob (`feast materialize-incremental` up to the start time of the run). */
export interface FeastMaterializationOptions {
  /**
   * Cron schedule (UTC).
   * @default '0 * * * *' (hourly)
   */
  readonly schedule?: string;
  /**
   * Seconds a run may take before it is stopped (`activeDeadlineSeconds`); the next run resumes
   * from the last materialized point.
   * @default 3000 (50 minutes, inside the hourly default)
   */
  readonly deadlineSeconds?: number;
  /**
   * Retries of a failed run.
   * @default 2
   */
  readonly backoffLimit?: number;
  /**
   * Annotations of the materialization ServiceAccount (`<name>-materializer`).
   * @default - none; on EKS the stack uses Pod Identity
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
}

/** Properties of a `FeastFeatureStore`. */
export interface FeastFeatureStoreProps {
  /**
   * Namespace to run in (must exist).
   * @default 'feast'
   */
  readonly namespace?: string;
  /**
   * Name of the Deployment, Service, ServiceAccount and ConfigMap (`<name>-config`).
   * @default 'feast'
   */
  readonly name?: string;
  /**
   * Sets replicas, autoscaling and resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /** Feast project: letters, digits, `_` and `-`, not starting with `_` or `-`. */
  readonly project: string;
  /**
   * Feast provider.
   * @default FeastProvider.LOCAL
   */
  readonly provider?: FeastProvider;
  /**
   * The registry file, `s3://bucket/key`. An S3 file registry, not Feast's SQL registry: it needs
   * no database, versioning keeps every earlier registry, and the writers (the materialization job,
   * whose runs never overlap, and `feast apply` in CI) are few.
   */
  readonly registryPath: string;
  /**
   * Seconds the server and clients cache the registry before reading it again (`cache_ttl_seconds`
   * and `feast serve --registry_ttl_sec`): how long a newly applied feature view stays invisible.
   * @default 60
   */
  readonly registryCacheTtlSeconds?: number;
  /** The online store. */
  readonly onlineStore: FeastOnlineStoreOptions;
  /**
   * Endpoint of an S3-compatible store (MinIO, Ceph); leave unset for AWS S3.
   * @default - AWS S3
   */
  readonly s3EndpointUrl?: string;
  /**
   * AWS region of the bucket.
   * @default - the AWS SDK's own resolution
   */
  readonly awsRegion?: string;
  /**
   * Minimum replicas of the feature server (the autoscaler's floor).
   * @default 1 in DEVELOPMENT, 2 in PRODUCTION (PRODUCTION refuses fewer than 2)
   */
  readonly replicas?: number;
  /**
   * Maximum replicas the autoscaler may add on CPU load.
   * @default 2 in DEVELOPMENT, 6 in PRODUCTION
   */
  readonly maxReplicas?: number;
  /**
   * Worker processes per replica (`feast serve --workers`).
   * @default 1 in DEVELOPMENT, 2 in PRODUCTION
   */
  readonly workers?: number;
  /**
   * The materialization CronJob.
   * @default - hourly
   */
  readonly materialization?: FeastMaterializationOptions;
  /**
   * Namespaces whose pods labelled `feast.cdk-mlops-stack.io/client: "true"` may reach the server.
   * @default - the feature server's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Annotations of the feature server's ServiceAccount.
   * @default - none; on EKS the stack uses Pod Identity
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
}


/** The feature server's objects. */
interface FeatureServerParts {
  readonly deployment: k8s.KubeDeployment;
  readonly autoscaler: k8s.KubeHorizontalPodAutoscalerV2;
  readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  readonly service: k8s.KubeService;
  readonly networkPolicy: k8s.KubeNetworkPolicy;
}

/** What the feature server's and the materializer's pods share. */
interface FeastPods {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly jobLabels: Record<string, string>;
  readonly storeClientLabels: Record<string, string>;
  readonly env: k8s.EnvVar[];
  /** The online store credentials of the materializer, where they differ from the server's. */
  readonly writerEnv: k8s.EnvVar[];
  readonly volumes: k8s.Volume[];
  readonly mounts: k8s.VolumeMount[];
  readonly materializerName: string;
  readonly ttl: number;
}

/** Feast's image runs as UID 1001 (UBI's default user), which owns its virtualenv. */
const FEAST_UID = 1001;
const SCRATCH = '/tmp';
const CONFIG_FILE = `${FEAST_CONFIG_DIR}/feature_store.yaml`;
const PYTHON_DIR = `${FEAST_CONFIG_DIR}/python`;
const FEAST_PROJECT = /^(?![_-])[A-Za-z0-9_-]+$/;
const REDIS_USERNAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * Feast for any Kubernetes cluster: `feature_store.yaml` rendered from typed props into a
 * ConfigMap (registry on S3, Redis-protocol online store with TLS and the password from a Secret,
 * file offline store reading parquet from S3), the feature server (`feast serve`) behind a
 * ClusterIP Service with probes, an autoscaler, a disruption budget when it has replicas and a
 * NetworkPolicy for labelled clients, and a CronJob that runs `feast materialize-incremental`
 * under its own ServiceAccount (the only one that needs to write the registry).
 */
export class FeastFeatureStore extends Chart {
  /** The feature server Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** The ClusterIP Service. */
  public readonly service: k8s.KubeService;
  /** The ServiceAccount of the feature server (reads the registry). */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The ServiceAccount of the materialization job (reads offline data, writes the registry). */
  public readonly materializerServiceAccount: k8s.KubeServiceAccount;
  /** The materialization CronJob. */
  public readonly materialization: k8s.KubeCronJob;
  /** The ConfigMap with `feature_store.yaml`. */
  public readonly config: k8s.KubeConfigMap;
  /** The autoscaler of the feature server. */
  public readonly autoscaler: k8s.KubeHorizontalPodAutoscalerV2;
  /** The PodDisruptionBudget, when the floor is more than one replica. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The NetworkPolicy admitting clients. */
  public readonly networkPolicy: k8s.KubeNetworkPolicy;
  /** `feature_store.yaml` as rendered; a client (training job, notebook) uses the same file with FEAST_REDIS_PASSWORD set. */
  public readonly featureStoreYaml: string;
  /** `http://name.namespace.svc:6566`, the feature server for in-cluster clients. */
  public readonly url: string;
  /** Replicas, workers and resources of the server and the materializer, defaults resolved. */
  public readonly sizing: FeastSizing;

  constructor(scope: Construct, id: string, props: FeastFeatureStoreProps) {
    const namespace = props.namespace ?? 'feast';
    super(scope, id, { namespace });
    const name = props.name ?? 'feast';
    const profile = resolveProfile(props.profile);
    const defaults = FEAST_DEFAULTS[profile].server;
    const replicas = props.replicas ?? defaults.replicas;
    const maxReplicas = props.maxReplicas ?? Math.max(defaults.maxReplicas, replicas);
    const workers = props.workers ?? defaults.workers;
    this.sizing = { ...defaults, replicas, maxReplicas, workers };
    const ttl = props.registryCacheTtlSeconds ?? 60;
    const job = {
      schedule: props.materialization?.schedule ?? '0 * * * *',
      deadlineSeconds: props.materialization?.deadlineSeconds ?? 3000,
      backoffLimit: props.materialization?.backoffLimit ?? 2,
    };
    this.validate(props, { namespace, name, profile, replicas, maxReplicas, workers, ttl, job });
    guardAgainstClashes(this);

    const labels = standardLabels('feast', name, FEAST_IMAGE.release);
    const selector = selectorLabels('feast', name);
    const jobLabels = standardLabels('feast', `${name}-materializer`, FEAST_IMAGE.release);
    const online = props.onlineStore;
    const storeClientLabels = online.clientPodLabels ?? {};
    this.url = `http://${name}.${namespace}.svc:${FEAST_PORT}`;
    this.featureStoreYaml = featureStoreYaml({
      project: props.project,
      provider: props.provider ?? FeastProvider.LOCAL,
      registryPath: props.registryPath,
      registryCacheTtlSeconds: ttl,
      connectionString: online.connectionString,
      redisType: online.redisType ?? FeastRedisType.REDIS,
      tls: online.tls ?? true,
      keyTtlSeconds: online.keyTtlSeconds,
      withUsername: online.username !== undefined,
    });

    const configName = `${name}-config`;
    this.config = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: configName, labels },
      data: { 'feature_store.yaml': this.featureStoreYaml, 'sitecustomize.py': S3_BRIDGE_MODULE },
    });
    // A changed feature_store.yaml rolls the server, instead of waiting for the next restart. CDK
    // tokens (bucket, endpoint) are numbered per synth, so they are hashed as one placeholder.
    const configHash = createHash('sha256').update(this.featureStoreYaml.replace(/\$\{Token\[[^\]]+\]\}/g, '${token}'))
      .digest('hex').slice(0, 16);

    this.serviceAccount = serviceAccount(this, 'ServiceAccount', name, labels, props.serviceAccountAnnotations);
    const materializerName = `${name}-materializer`;
    this.materializerServiceAccount = serviceAccount(this, 'MaterializerServiceAccount', materializerName, jobLabels,
      props.materialization?.serviceAccountAnnotations);

    const reader = { username: online.username, passwordSecretName: online.passwordSecretName, passwordSecretKey: online.passwordSecretKey };
    const env: k8s.EnvVar[] = [
      ...credentialEnv(reader),
      { name: 'HOME', value: SCRATCH },
      { name: 'TMPDIR', value: SCRATCH },
      ...(props.s3EndpointUrl ? [{ name: 'FEAST_S3_ENDPOINT_URL', value: props.s3EndpointUrl }] : []),
      ...(props.awsRegion ? [{ name: 'AWS_DEFAULT_REGION', value: props.awsRegion }] : []),
    ];
    const volumes: k8s.Volume[] = [
      { name: 'config', configMap: { name: configName, items: [
        { key: 'feature_store.yaml', path: 'feature_store.yaml' },
        { key: 'sitecustomize.py', path: 'python/sitecustomize.py' },
      ] } },
      { name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'config', mountPath: FEAST_CONFIG_DIR, readOnly: true },
      { name: 'scratch', mountPath: SCRATCH },
    ];

    const writerEnv = online.writer ? credentialEnv(online.writer) : [];
    const pods: FeastPods = { name, labels, selector, jobLabels, storeClientLabels, env, writerEnv, volumes, mounts, materializerName, ttl };
    const served = this.featureServer(props, pods, namespace, configHash);
    this.deployment = served.deployment;
    this.autoscaler = served.autoscaler;
    this.podDisruptionBudget = served.podDisruptionBudget;
    this.service = served.service;
    this.networkPolicy = served.networkPolicy;
    this.materialization = this.materializationJob(pods, job);
  }

  /** The feature server: Deployment (the autoscaler owns its replicas), autoscaler, PDB, Service, policy. */
  private featureServer(props: FeastFeatureStoreProps, pods: FeastPods, namespace: string, configHash: string): FeatureServerParts {
    const container: k8s.Container = {
      name: 'feature-server',
      image: imageRef(FEAST_IMAGE),
      command: ['feast'],
      args: [
        '--feature-store-yaml', CONFIG_FILE,
        'serve',
        '--host', '0.0.0.0',
        '--port', String(FEAST_PORT),
        '--workers', String(this.sizing.workers),
        '--registry_ttl_sec', String(pods.ttl),
      ],
      env: pods.env,
      ports: [{ name: 'http', containerPort: FEAST_PORT, protocol: 'TCP' }],
      // /health answers 200 once the registry is loaded (then from its cache).
      ...httpProbes('/health', 'http', 120),
      resources: resources(this.sizing.cpu, this.sizing.memory),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: pods.mounts,
    };

    const { name, labels, selector } = pods;
    const replicas = this.sizing.replicas;
    const podLabels = { ...labels, ...pods.storeClientLabels };
    const deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels },
      spec: {
        // No spec.replicas: the autoscaler owns it, and a re-applied manifest must not reset it.
        selector: { matchLabels: selector },
        strategy: rollWithoutDowntime(),
        template: {
          metadata: { labels: podLabels, annotations: { 'feast.cdk-mlops-stack.io/config-sha256': configHash } },
          spec: restrictedPodSpec(name, {
            containers: [container],
            volumes: pods.volumes,
            ...(replicas > 1 ? { topologySpreadConstraints: zoneSpread(selector) } : {}),
          }, FEAST_UID),
        },
      },
    });

    const autoscaler = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
      metadata: { name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: replicas,
        maxReplicas: this.sizing.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    });

    const server: ServerIdentity = { name, labels, selector };
    const podDisruptionBudget = replicas > 1 ? disruptionBudget(this, server) : undefined;
    const service = clusterIpService(this, server, 'http', FEAST_PORT);
    const networkPolicy = serverNetworkPolicy(this, server, FEAST_PORT,
      clientPeers(this, 'clientNamespaces', props.clientNamespaces ?? [namespace], { [FEAST_CLIENT_LABEL]: 'true' }));
    return { deployment, autoscaler, podDisruptionBudget, service, networkPolicy };
  }

  /** The materialization CronJob: one run at a time, up to the moment it starts. */
  private materializationJob(pods: FeastPods, job: { schedule: string; deadlineSeconds: number; backoffLimit: number }): k8s.KubeCronJob {
    const materialize: k8s.Container = {
      name: 'materialize',
      image: imageRef(FEAST_IMAGE),
      // Up to the moment the run starts (UTC); Feast resumes each view from its last materialized point.
      command: ['sh', '-c', `exec feast --feature-store-yaml ${CONFIG_FILE} materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"`],
      env: [...withOverrides(pods.env, pods.writerEnv), { name: 'PYTHONPATH', value: PYTHON_DIR }],
      // The contract measured a 574 MiB peak for 100,000 rows; the limit is the headroom above it.
      resources: resources(this.sizing.jobCpu, this.sizing.jobMemoryRequest, this.sizing.jobMemory),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: pods.mounts,
    };
    return new k8s.KubeCronJob(this, 'Materialization', {
      metadata: { name: `${pods.name}-materialize`, labels: pods.jobLabels },
      spec: {
        schedule: job.schedule,
        timeZone: 'Etc/UTC',
        // Registry writes rewrite the whole file: two runs at once could lose one's update.
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: pods.jobLabels },
          spec: {
            backoffLimit: job.backoffLimit,
            activeDeadlineSeconds: job.deadlineSeconds,
            template: {
              metadata: { labels: { ...pods.jobLabels, ...pods.storeClientLabels } },
              spec: restrictedPodSpec(pods.materializerName, { restartPolicy: 'Never', containers: [materialize], volumes: pods.volumes }, FEAST_UID),
            },
          },
        },
      },
    });
  }

  private validate(props: FeastFeatureStoreProps, v: {
    namespace: string; name: string; profile: StackProfile; replicas: number; maxReplicas: number; workers: number; ttl: number;
    job: { schedule: string; deadlineSeconds: number; backoffLimit: number };
  }): void {
    assertDnsLabel(this, 'namespace', v.namespace);
    assertDnsLabel(this, 'name', v.name);
    if (!isUnresolved(props.project) && !FEAST_PROJECT.test(props.project)) {
      throw new InvalidPropError(this, 'project', props.project,
        'allowed: letters, digits, "_" and "-", not starting with "_" or "-" (Feast\'s rule for project names)');
    }
    assertPositiveInteger(this, 'replicas', v.replicas);
    assertPositiveInteger(this, 'maxReplicas', v.maxReplicas);
    assertPositiveInteger(this, 'workers', v.workers);
    if (v.maxReplicas < v.replicas) {
      throw new InvalidPropError(this, 'maxReplicas', v.maxReplicas, `allowed: at least replicas (${v.replicas})`);
    }
    if (v.profile === StackProfile.PRODUCTION && v.replicas < 2) {
      throw new InvalidPropError(this, 'replicas', v.replicas, 'allowed: at least 2 in PRODUCTION, so a node or zone loss does not stop online serving');
    }
    if (!Number.isInteger(v.ttl) || v.ttl <= 0) {
      throw new InvalidPropError(this, 'registryCacheTtlSeconds', v.ttl,
        'allowed: a whole number of seconds greater than 0 (Feast reads 0 as "never refresh", so new feature views would never be served)');
    }
    const registry = props.registryPath;
    if (!isUnresolved(registry) && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S*[^/\s]$/.test(registry)) {
      throw new InvalidPropError(this, 'registryPath', registry, 'allowed: an S3 object URI "s3://<bucket>/<key>", e.g. s3://bucket/feast/registry.pb');
    }
    this.validateOnlineStore(props.onlineStore);
    if (props.s3EndpointUrl && !isUnresolved(props.s3EndpointUrl) && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(props.s3EndpointUrl)) {
      throw new InvalidPropError(this, 's3EndpointUrl', props.s3EndpointUrl, 'allowed: an http(s):// URL');
    }
    assertCronSchedule(this, 'materialization.schedule', v.job.schedule);
    assertPositiveInteger(this, 'materialization.deadlineSeconds', v.job.deadlineSeconds);
    if (!Number.isInteger(v.job.backoffLimit) || v.job.backoffLimit < 0) {
      throw new InvalidPropError(this, 'materialization.backoffLimit', v.job.backoffLimit, 'allowed: a whole number, 0 or more');
    }
  }

  private validateOnlineStore(online: FeastOnlineStoreOptions): void {
    assertDnsLabel(this, 'onlineStore.passwordSecretName', online.passwordSecretName);
    for (const [prop, user] of [['onlineStore.username', online.username], ['onlineStore.writer.username', online.writer?.username]]) {
      // The name reaches the comma-separated connection string through the environment.
      if (user !== undefined && !isUnresolved(user) && !REDIS_USERNAME.test(user)) {
        throw new InvalidPropError(this, prop!, user, 'allowed: 1-64 letters, digits, ".", "_" and "-", starting with a letter (an ACL user name without separators)');
      }
    }
    if (online.writer) {
      if (online.username === undefined) {
        throw new InvalidPropError(this, 'onlineStore.writer', online.writer.username,
          'allowed only with onlineStore.username: separate writer credentials are ACL users, and so are the server\'s');
      }
      assertDnsLabel(this, 'onlineStore.writer.passwordSecretName', online.writer.passwordSecretName);
    }
    const text = online.connectionString;
    if (!isUnresolved(text)) {
      const parts = text.split(',');
      const parameter = parts.find(p => p.includes('='));
      if (parameter !== undefined) {
        throw new InvalidPropError(this, 'onlineStore.connectionString', /password/i.test(parameter) ? '<redacted: it holds a password>' : text,
          /password/i.test(parameter)
            ? 'allowed: host:port addresses only; a password in the connection string would be in the manifest, so it comes from onlineStore.passwordSecretName'
            : 'allowed: host:port addresses only, separated by commas; set TLS with onlineStore.tls');
      }
      const bad = parts.find(p => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(p) && !isUnresolved(p));
      if (bad !== undefined) {
        throw new InvalidPropError(this, 'onlineStore.connectionString', text, 'allowed: "host:port", or several separated by commas for Redis Cluster');
      }
      if (parts.length > 1 && (online.redisType ?? FeastRedisType.REDIS) === FeastRedisType.REDIS) {
        throw new InvalidPropError(this, 'onlineStore.connectionString', text,
          'allowed: one host:port with redisType REDIS (Feast would use only the first); several need redisType REDIS_CLUSTER');
      }
    }
    if (online.keyTtlSeconds !== undefined && (!Number.isInteger(online.keyTtlSeconds) || online.keyTtlSeconds <= 0)) {
      throw new InvalidPropError(this, 'onlineStore.keyTtlSeconds', online.keyTtlSeconds,
        'allowed: a whole number of seconds greater than 0, or unset to keep features until they are overwritten');
    }
  }
}

/** The online store user and password, as feature_store.yaml expands them from the environment. */
function credentialEnv(c: { username?: string; passwordSecretName: string; passwordSecretKey?: string }): k8s.EnvVar[] {
  return [
    ...(c.username !== undefined ? [{ name: REDIS_USERNAME_ENV, value: c.username }] : []),
    { name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: c.passwordSecretName, key: c.passwordSecretKey ?? 'password' } } },
  ];
}

/** `env` with the variables of `overrides` in place of those of the same name. */
function withOverrides(env: k8s.EnvVar[], overrides: k8s.EnvVar[]): k8s.EnvVar[] {
  const replaced = new Map(overrides.map(e => [e.name, e]));
  return env.map(e => replaced.get(e.name) ?? e);
}
