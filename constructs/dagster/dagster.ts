import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { dbBootstrapScript } from '../core/db-bootstrap';
import { assertDnsLabel, assertPositiveInteger, InvalidPropError, isUnresolved } from '../core/errors';
import { selectorLabels, standardLabels } from '../core/labels';
import { clientPeers } from '../core/network';
import { resolveProfile, StackProfile } from '../core/profile';
import { DAGSTER_DAEMON, DAGSTER_DEFAULTS, DAGSTER_WEBSERVER, DagsterSizing } from './defaults';
import {
  clusterIpService, disruptionBudget, restrictedPodSpec, ServerIdentity, serverNetworkPolicy, serviceAccount,
} from '../core/server';
import {
  httpProbes, resources, resourceValues, restrictedContainerSecurityContext, restrictedPodSecurityContext, rollWithoutDowntime,
  zoneSpread,
} from '../core/workload';
import { DAGSTER_IMAGE, imageRef } from '../versions';
import { DAGSTER_PG_ENV, instanceYaml, workspaceYaml } from './instance-yaml';

/** Label a pod must carry, in one of the client namespaces, to reach the Dagster webserver. */
export const DAGSTER_CLIENT_LABEL = 'dagster.cdk-mlops-stack.io/client';

/** The webserver's port. */
export const DAGSTER_WEBSERVER_PORT = 3000;

/** Default port of a code location's gRPC server. */
export const DAGSTER_CODE_PORT = 3030;

/** How the database connection checks the server (libpq `sslmode`). */
export enum DagsterDatabaseTls {
  /** TLS, server not verified (what an RDS parameter group that forces SSL needs at the least). */
  REQUIRE = 'require',
  /** TLS, server certificate verified against the system trust store and its name checked. */
  VERIFY_FULL = 'verify-full',
}

/** One code location: a gRPC server (`dagster api grpc`) with the user's code, listed in the workspace. */
export interface DagsterCodeLocation {
  /** Location name; also the Deployment and Service name (`<chart name>-<name>`). A DNS label. */
  readonly name: string;
  /** Image with the user's code and Dagster at the pinned release. Run pods use it too. */
  readonly image: string;
  /**
   * Python module that defines the `Definitions` (`dagster api grpc -m`).
   * @default - set `packageName` instead; exactly one of them
   */
  readonly module?: string;
  /**
   * Python package that defines the `Definitions` (`dagster api grpc --package-name`).
   * @default - set `module` instead; exactly one of them
   */
  readonly packageName?: string;
  /**
   * gRPC port.
   * @default 3030
   */
  readonly port?: number;
  /**
   * Environment of the code server and of the run pods (of every location: run pods get the
   * launcher's environment, see `Dagster`).
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * Secrets whose keys become environment variables of the code server and of the run pods (of
   * every location).
   * @default - none
   */
  readonly envSecretNames?: string[];
  /**
   * CPU request of the code server.
   * @default '100m'
   */
  readonly cpu?: string;
  /**
   * Memory request and limit of the code server.
   * @default '512Mi'
   */
  readonly memory?: string;
}

/** Properties of a `Dagster` chart. */
export interface DagsterProps {
  /**
   * Namespace of every Dagster object and of the run Jobs (must exist).
   * @default 'dagster'
   */
  readonly namespace?: string;
  /**
   * Prefix of the objects' names.
   * @default 'dagster'
   */
  readonly name?: string;
  /**
   * Sets replicas, queue size and resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * Secret with the database connection as environment variables: `DAGSTER_PG_HOST`,
   * `DAGSTER_PG_PORT`, `DAGSTER_PG_DB`, `DAGSTER_PG_USERNAME`, `DAGSTER_PG_PASSWORD` (and
   * `DAGSTER_PG_URI` for db-bootstrap). Webserver, daemon and run pods read it; dagster.yaml
   * refers to the variables only.
   */
  readonly databaseSecretName: string;
  /**
   * Secret with `username` and `password` of a PostgreSQL admin role; when set, a `db-bootstrap`
   * init container of the daemon, the only container that sees it, makes the connection's user
   * a role that owns the database and nothing else.
   * @default - none; the user must already own the database
   */
  readonly databaseAdminSecretName?: string;
  /**
   * How the database connection checks the server.
   * @default DagsterDatabaseTls.REQUIRE
   */
  readonly databaseTls?: DagsterDatabaseTls;
  /** Bucket of the compute logs (stdout/stderr of every step, shown in the UI). */
  readonly computeLogBucket: string;
  /**
   * Key prefix of the compute logs.
   * @default 'dagster/compute-logs'
   */
  readonly computeLogPrefix?: string;
  /**
   * Endpoint of an S3-compatible store; leave unset for AWS S3.
   * @default - AWS S3
   */
  readonly s3EndpointUrl?: string;
  /**
   * AWS region of the bucket.
   * @default - the AWS SDK's own resolution
   */
  readonly awsRegion?: string;
  /**
   * The code locations.
   * @default - none; the webserver and daemon run with an empty workspace
   */
  readonly codeLocations?: DagsterCodeLocation[];
  /**
   * Runs the queue starts at once; more wait in the queue.
   * @default 1 in DEVELOPMENT, 10 in PRODUCTION
   */
  readonly maxConcurrentRuns?: number;
  /**
   * Replicas of the daemon. Exactly 1: a second daemon would start every schedule and dequeue
   * every run twice. The prop exists so that a copied Helm value fails loudly.
   * @default 1
   */
  readonly daemonReplicas?: number;
  /**
   * Replicas of the webserver.
   * @default 1 in DEVELOPMENT, 2 in PRODUCTION (PRODUCTION refuses fewer than 2)
   */
  readonly webserverReplicas?: number;
  /**
   * A second webserver with `--read-only` (no launching, no terminating, no schedule changes), for
   * people who should only look. It runs as its own ServiceAccount, bound to nothing.
   * @default - true when `clientNamespaces` names a namespace other than Dagster's, else false
   */
  readonly readOnlyWebserver?: boolean;
  /**
   * CPU request of each run pod.
   * @default '250m' in DEVELOPMENT, '1' in PRODUCTION
   */
  readonly runCpu?: string;
  /**
   * Memory request and limit of each run pod.
   * @default - request 384Mi and limit 512Mi in DEVELOPMENT, 2Gi in PRODUCTION
   */
  readonly runMemory?: string;
  /**
   * Namespaces whose pods labelled `dagster.cdk-mlops-stack.io/client: "true"` may reach the
   * read-only webserver (and, for Dagster's own namespace, the webserver too).
   * @default - Dagster's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Namespaces whose pods labelled `dagster.cdk-mlops-stack.io/client: "true"` may also reach the
   * webserver that launches and terminates runs.
   * @default - Dagster's own namespace only
   */
  readonly operatorNamespaces?: string[];
  /**
   * Annotations of the webserver, daemon and run ServiceAccounts (IRSA).
   * @default - none; on EKS the stack uses Pod Identity
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
}


const DAGSTER_HOME = '/opt/dagster/dagster_home';
const WORKSPACE_DIR = '/dagster-workspace';
const SCRATCH = '/tmp';
const PYTHON_MODULE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** What every Dagster pod of one deployment shares: names, env, the instance and workspace volumes. */
interface DagsterPods {
  readonly identity: (part: string) => ServerIdentity;
  readonly env: k8s.EnvVar[];
  readonly envFrom: k8s.EnvFromSource[];
  readonly mounts: k8s.VolumeMount[];
  readonly volumes: k8s.Volume[];
  readonly workspaceArgs: string[];
  readonly scratch: k8s.VolumeMount;
}

/**
 * Dagster for any Kubernetes cluster: webserver (and optionally a read-only one), the daemon
 * (schedules, sensors, run queue), one gRPC code server per code location, `dagster.yaml` and
 * `workspace.yaml` rendered from typed props, the run launcher's Role, NetworkPolicies and a PDB.
 * Every pod, run pods included, meets Pod Security "restricted"; every Dagster part runs the one
 * pinned release (`DAGSTER_IMAGE`).
 */
export class Dagster extends Chart {
  /** The webserver Deployment. */
  public readonly webserver: k8s.KubeDeployment;
  /** The daemon Deployment. */
  public readonly daemon: k8s.KubeDeployment;
  /** The ServiceAccounts pods run as, by role (`webserver`, `daemon`, `run`); bind cloud permissions to them. */
  public readonly serviceAccounts: { [role: string]: string };
  /** `http://<name>-webserver.<namespace>.svc:3000`, the UI and GraphQL for in-cluster clients. */
  public readonly webserverUrl: string;
  /** The rendered dagster.yaml. */
  public readonly instanceYaml: string;
  /** The rendered workspace.yaml. */
  public readonly workspaceYaml: string;
  /** Webserver replicas, run concurrency and run resources, defaults resolved. */
  public readonly sizing: DagsterSizing;

  constructor(scope: Construct, id: string, props: DagsterProps) {
    const namespace = props.namespace ?? 'dagster';
    super(scope, id, { namespace });
    const name = props.name ?? 'dagster';
    const profile = resolveProfile(props.profile);
    const defaults = DAGSTER_DEFAULTS[profile];
    const locations = props.codeLocations ?? [];
    const webserverReplicas = props.webserverReplicas ?? defaults.webserverReplicas;
    const maxConcurrentRuns = props.maxConcurrentRuns ?? defaults.maxConcurrentRuns;
    this.sizing = {
      webserverReplicas, maxConcurrentRuns, runCpu: props.runCpu ?? defaults.runCpu,
      runMemoryRequest: props.runMemory ?? defaults.runMemoryRequest, runMemory: props.runMemory ?? defaults.runMemory,
    };
    this.validate(props, { namespace, name, profile, locations, webserverReplicas, maxConcurrentRuns });
    guardAgainstClashes(this);

    const labels = (part: string) => standardLabels('dagster', `${name}-${part}`, DAGSTER_IMAGE.release);
    const selector = (part: string) => selectorLabels('dagster', `${name}-${part}`);
    const identity = (part: string): ServerIdentity => ({ name: `${name}-${part}`, labels: labels(part), selector: selector(part) });
    const readOnly = props.readOnlyWebserver ?? (props.clientNamespaces ?? []).some(n => n !== namespace);
    this.serviceAccounts = {
      webserver: `${name}-webserver`, daemon: `${name}-daemon`, run: `${name}-run`, code: `${name}-code`,
      ...(readOnly ? { readOnly: `${name}-read-only` } : {}),
    };
    for (const [role, account] of Object.entries(this.serviceAccounts)) {
      serviceAccount(this, `${role}ServiceAccount`, account, labels(role), role === 'code' ? undefined : props.serviceAccountAnnotations);
    }

    const instanceConfigMap = `${name}-instance`;
    const workspaceConfigMap = `${name}-workspace`;
    this.instanceYaml = instanceYaml({
      sslMode: props.databaseTls ?? DagsterDatabaseTls.REQUIRE,
      maxConcurrentRuns,
      jobNamespace: namespace,
      runServiceAccount: this.serviceAccounts.run,
      instanceConfigMap,
      dagsterHome: DAGSTER_HOME,
      databaseSecretName: props.databaseSecretName,
      ...runEnvironment(locations),
      runLabels: labels('run'),
      runResources: resourceValues(this.sizing.runCpu, this.sizing.runMemoryRequest, this.sizing.runMemory),
      runContainerSecurityContext: restrictedContainerSecurityContext(),
      runPodSecurityContext: restrictedPodSecurityContext(),
      computeLogBucket: props.computeLogBucket,
      computeLogPrefix: props.computeLogPrefix ?? 'dagster/compute-logs',
      s3EndpointUrl: props.s3EndpointUrl,
      awsRegion: props.awsRegion,
    });
    this.workspaceYaml = workspaceYaml(locations.map(l => ({ name: l.name, host: `${name}-${l.name}`, port: l.port ?? DAGSTER_CODE_PORT })));
    new k8s.KubeConfigMap(this, 'Instance', { metadata: { name: instanceConfigMap, labels: labels('instance') }, data: { 'dagster.yaml': this.instanceYaml } });
    new k8s.KubeConfigMap(this, 'Workspace', { metadata: { name: workspaceConfigMap, labels: labels('workspace') }, data: { 'workspace.yaml': this.workspaceYaml } });

    const scratch = { name: 'scratch', mountPath: SCRATCH };
    const volumes: k8s.Volume[] = [
      { name: 'instance', configMap: { name: instanceConfigMap, items: [{ key: 'dagster.yaml', path: 'dagster.yaml' }] } },
      { name: 'workspace', configMap: { name: workspaceConfigMap, items: [{ key: 'workspace.yaml', path: 'workspace.yaml' }] } },
      { name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'instance', mountPath: DAGSTER_HOME, readOnly: true },
      { name: 'workspace', mountPath: WORKSPACE_DIR, readOnly: true },
      scratch,
    ];
    const env: k8s.EnvVar[] = [
      { name: 'DAGSTER_HOME', value: DAGSTER_HOME },
      { name: 'HOME', value: SCRATCH },
      { name: 'TMPDIR', value: SCRATCH },
      ...(props.awsRegion ? [{ name: 'AWS_DEFAULT_REGION', value: props.awsRegion }] : []),
    ];
    const envFrom: k8s.EnvFromSource[] = [{ secretRef: { name: props.databaseSecretName } }];
    const workspaceArgs = ['-w', `${WORKSPACE_DIR}/workspace.yaml`];

    const pods: DagsterPods = { identity, env, envFrom, mounts, volumes, workspaceArgs, scratch };
    const deployments = this.webservers(props, pods, namespace, webserverReplicas);
    this.webserver = deployments[0];
    this.webserverUrl = `http://${name}-webserver.${namespace}.svc:${DAGSTER_WEBSERVER_PORT}`;

    this.daemon = this.daemonDeployment(props, pods);
    const daemonParts = identity('daemon');

    for (const location of locations) this.codeServer(location, identity, [daemonParts, identity('webserver'), identity('read-only'), identity('run')]);
    this.runLauncherRbac(name, labels('run-launcher'));
  }

  /** The webserver Deployments (and the read-only one), each with its Service, policy and PDB. */
  private webservers(props: DagsterProps, pods: DagsterPods, namespace: string, webserverReplicas: number): k8s.KubeDeployment[] {
    const webserverContainer = (readOnly: boolean): k8s.Container => ({
      name: 'webserver',
      image: imageRef(DAGSTER_IMAGE),
      command: ['dagster-webserver'],
      args: ['--host', '0.0.0.0', '--port', String(DAGSTER_WEBSERVER_PORT), ...pods.workspaceArgs, ...(readOnly ? ['--read-only'] : [])],
      env: pods.env,
      envFrom: pods.envFrom,
      ports: [{ name: 'http', containerPort: DAGSTER_WEBSERVER_PORT, protocol: 'TCP' }],
      ...httpProbes('/server_info', 'http', 180),
      resources: resources(DAGSTER_WEBSERVER.cpu, DAGSTER_WEBSERVER.memory, DAGSTER_WEBSERVER.memoryLimit),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: pods.mounts,
    });
    const webservers: [string, boolean, number][] = [['webserver', false, webserverReplicas],
      ...(this.serviceAccounts.readOnly ? [['read-only', true, webserverReplicas] as [string, boolean, number]] : [])];
    const label = { [DAGSTER_CLIENT_LABEL]: 'true' };
    // Who may launch and terminate runs is a narrower set than who may look: clients of other
    // namespaces reach the read-only webserver only, unless they are operators.
    const clients = {
      webserver: clientPeers(this, 'operatorNamespaces', [namespace, ...(props.operatorNamespaces ?? [])], label),
      'read-only': clientPeers(this, 'clientNamespaces', [namespace, ...(props.clientNamespaces ?? [])], label),
    };
    return webservers.map(([part, readOnly, replicas]) => {
      const server = pods.identity(part);
      const deployment = new k8s.KubeDeployment(this, `${part}Deployment`, {
        metadata: { name: server.name, labels: server.labels },
        spec: {
          replicas,
          selector: { matchLabels: server.selector },
          strategy: rollWithoutDowntime(),
          template: {
            metadata: { labels: server.labels },
            spec: restrictedPodSpec(readOnly ? this.serviceAccounts.readOnly : this.serviceAccounts.webserver, {
              // The instance builds its K8sRunLauncher at start, which loads the in-cluster API
              // config (the token); the Role decides what it may do (the read-only one's account
              // is bound to nothing).
              automountServiceAccountToken: true,
              containers: [webserverContainer(readOnly)],
              volumes: pods.volumes,
              ...(replicas > 1 ? { topologySpreadConstraints: zoneSpread(server.selector) } : {}),
            }),
          },
        },
      });
      const parts = new Construct(this, part);
      clusterIpService(parts, server, 'http', DAGSTER_WEBSERVER_PORT);
      serverNetworkPolicy(parts, server, DAGSTER_WEBSERVER_PORT, clients[part as keyof typeof clients]);
      if (replicas > 1) disruptionBudget(parts, server);
      return deployment;
    });
  }

  /** The daemon's Deployment: one replica, recreated, with the database bootstrap as init container. */
  private daemonDeployment(props: DagsterProps, pods: DagsterPods): k8s.KubeDeployment {
    const bootstrap: k8s.Container[] = props.databaseAdminSecretName ? [{
      name: 'db-bootstrap',
      image: imageRef(DAGSTER_IMAGE),
      command: ['python', '-c', dbBootstrapScript(DAGSTER_PG_ENV.uri)],
      env: [
        { name: DAGSTER_PG_ENV.uri, valueFrom: { secretKeyRef: { name: props.databaseSecretName, key: DAGSTER_PG_ENV.uri } } },
        ...['username', 'password'].map(key => ({
          name: `DB_ADMIN_${key.toUpperCase()}`,
          valueFrom: { secretKeyRef: { name: props.databaseAdminSecretName!, key } },
        })),
        { name: 'HOME', value: SCRATCH },
      ],
      resources: resources('50m', '128Mi'),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [pods.scratch],
    }] : [];
    const daemonParts = pods.identity('daemon');
    return new k8s.KubeDeployment(this, 'DaemonDeployment', {
      metadata: { name: daemonParts.name, labels: daemonParts.labels },
      spec: {
        replicas: 1,
        // Never two daemons, not even during a rollout: each would start every schedule and run.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: daemonParts.selector },
        template: {
          metadata: { labels: daemonParts.labels },
          spec: restrictedPodSpec(this.serviceAccounts.daemon, {
            // The daemon launches runs as Kubernetes Jobs: it is an API client (see runLauncherRbac).
            automountServiceAccountToken: true,
            initContainers: bootstrap,
            containers: [{
              name: 'daemon',
              image: imageRef(DAGSTER_IMAGE),
              command: ['dagster-daemon'],
              args: ['run', ...pods.workspaceArgs],
              env: pods.env,
              envFrom: pods.envFrom,
              // Fails when the daemons stop writing heartbeats (after about 5 minutes).
              livenessProbe: { exec: { command: ['dagster-daemon', 'liveness-check'] }, initialDelaySeconds: 300, periodSeconds: 60, timeoutSeconds: 30, failureThreshold: 3 },
              resources: resources(DAGSTER_DAEMON.cpu, DAGSTER_DAEMON.memory, DAGSTER_DAEMON.memoryLimit),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: pods.mounts,
            }],
            volumes: pods.volumes,
          }),
        },
      },
    });
  }

  /** One code location: Deployment, Service, and a policy that admits webserver, daemon and run pods only. */
  private codeServer(location: DagsterCodeLocation, identity: (part: string) => ServerIdentity,
    callers: ServerIdentity[]): void {
    const server = identity(location.name);
    const port = location.port ?? DAGSTER_CODE_PORT;
    const scope = new Construct(this, `Code-${location.name}`);
    new k8s.KubeDeployment(scope, 'Deployment', {
      metadata: { name: server.name, labels: server.labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: server.selector },
        template: {
          metadata: { labels: server.labels },
          spec: restrictedPodSpec(this.serviceAccounts.code, {
            containers: [{
              name: 'code-server',
              image: location.image,
              command: ['dagster'],
              args: ['api', 'grpc', '--host', '0.0.0.0', '--port', String(port),
                ...(location.module ? ['--module-name', location.module] : ['--package-name', location.packageName!])],
              env: [
                // The run launcher starts run pods with the image of the location that asks. No
                // container context: dagster-k8s counts it as user-defined config, which the
                // launcher refuses beyond resources; the run pods' environment is the launcher's.
                { name: 'DAGSTER_CURRENT_IMAGE', value: location.image },
                { name: 'HOME', value: SCRATCH },
                { name: 'TMPDIR', value: SCRATCH },
                ...Object.entries(location.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
              ],
              envFrom: (location.envSecretNames ?? []).map(secret => ({ secretRef: { name: secret } })),
              ports: [{ name: 'grpc', containerPort: port, protocol: 'TCP' }],
              startupProbe: { exec: { command: ['dagster', 'api', 'grpc-health-check', '--port', String(port)] }, periodSeconds: 5, timeoutSeconds: 10, failureThreshold: 36 },
              readinessProbe: { exec: { command: ['dagster', 'api', 'grpc-health-check', '--port', String(port)] }, periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 3 },
              livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('grpc') }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
              resources: resources(location.cpu ?? '100m', location.memory ?? '512Mi'),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [{ name: 'scratch', mountPath: SCRATCH }],
            }],
            volumes: [{ name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } }],
          }),
        },
      },
    });
    clusterIpService(scope, server, 'grpc', port);
    serverNetworkPolicy(scope, server, port, callers.map(c => ({ podSelector: { matchLabels: c.selector } })));
  }

  /**
   * The run launcher's permissions, in the run namespace only, split by who makes the call: the
   * daemon launches and monitors runs, the webserver terminates them and shows debug info, and
   * nothing else calls the API. Each verb is one call dagster-k8s makes (dagster_k8s/client.py):
   * - jobs create: launch a run (create_namespaced_job), daemon;
   * - jobs/status get: run monitoring's health check (read_namespaced_job_status), daemon;
   * - jobs list: debug info of a run's Job (list_namespaced_job by name), both;
   * - jobs delete: terminate a run (delete_namespaced_job), both;
   * - pods list: find a Job's pods for termination and debug info (list_namespaced_pod), both;
   * - pods delete: terminate a run's pods with its Job (delete_namespaced_pod), both;
   * - pods/log get: the run worker's log in debug info (read_namespaced_pod_log), both;
   * - events list: the Job's events in debug info (list_namespaced_event), both.
   * No get/watch/update/patch: dagster-k8s does not call them on this path. With the
   * QueuedRunCoordinator the webserver only queues a run; the daemon creates its Job.
   */
  private runLauncherRbac(name: string, labels: Record<string, string>): void {
    const terminateAndDebug = [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['delete', 'list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'] },
    ];
    const roles: [string, string, string, object[]][] = [
      ['RunLauncher', `${name}-run-launcher`, this.serviceAccounts.daemon, [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
        { apiGroups: ['batch'], resources: ['jobs/status'], verbs: ['get'] },
        ...terminateAndDebug,
      ]],
      ['WebserverRuns', `${name}-webserver-runs`, this.serviceAccounts.webserver, terminateAndDebug],
    ];
    for (const [id, role, account, rules] of roles) {
      new ApiObject(this, `${id}Role`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: role, labels },
        rules,
      });
      new ApiObject(this, `${id}Binding`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: role, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace: this.namespace }],
      });
    }
  }

  private validate(props: DagsterProps, v: {
    namespace: string; name: string; profile: StackProfile; locations: DagsterCodeLocation[]; webserverReplicas: number; maxConcurrentRuns: number;
  }): void {
    assertDnsLabel(this, 'namespace', v.namespace);
    assertDnsLabel(this, 'name', v.name);
    assertDnsLabel(this, 'databaseSecretName', props.databaseSecretName);
    if (props.readOnlyWebserver === false && (props.clientNamespaces ?? []).some(n => n !== v.namespace)) {
      throw new InvalidPropError(this, 'readOnlyWebserver', false,
        'allowed: true (the default) when clientNamespaces names another namespace: its clients reach the read-only webserver; list launchers in operatorNamespaces');
    }
    if (props.databaseAdminSecretName !== undefined) assertDnsLabel(this, 'databaseAdminSecretName', props.databaseAdminSecretName);
    if (props.daemonReplicas !== undefined && props.daemonReplicas !== 1) {
      throw new InvalidPropError(this, 'daemonReplicas', props.daemonReplicas,
        'allowed: 1; a second daemon would start every schedule, sensor tick and queued run twice');
    }
    assertPositiveInteger(this, 'webserverReplicas', v.webserverReplicas);
    if (v.profile === StackProfile.PRODUCTION && v.webserverReplicas < 2) {
      throw new InvalidPropError(this, 'webserverReplicas', v.webserverReplicas, 'allowed: at least 2 in PRODUCTION, so a node or zone loss does not take the UI down');
    }
    if (!Number.isInteger(v.maxConcurrentRuns) || v.maxConcurrentRuns < 1) {
      throw new InvalidPropError(this, 'maxConcurrentRuns', v.maxConcurrentRuns,
        'allowed: a whole number of at least 1 (0 would queue every run forever; Dagster\'s -1, no limit, is not offered)');
    }
    if (!isUnresolved(props.computeLogBucket) && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(props.computeLogBucket)) {
      throw new InvalidPropError(this, 'computeLogBucket', props.computeLogBucket, 'allowed: an S3 bucket name (3-63 lowercase letters, digits, "." and "-")');
    }
    const seen = new Set<string>();
    const envValues = new Map<string, string>();
    v.locations.forEach((location, i) => {
      for (const [key, value] of Object.entries(location.env ?? {})) {
        if (envValues.has(key) && envValues.get(key) !== value) {
          throw new InvalidPropError(this, `codeLocations[${i}].env`, key,
            'allowed: a value every location that sets this variable shares (run pods get the environment of every location)');
        }
        envValues.set(key, value);
      }
      const prop = `codeLocations[${i}]`;
      assertDnsLabel(this, `${prop}.name`, location.name);
      if (seen.has(location.name)) {
        throw new InvalidPropError(this, `${prop}.name`, location.name, 'allowed: a name no other code location has (it names the location, Deployment and Service)');
      }
      seen.add(location.name);
      assertDnsLabel(this, `${prop}.name`, `${v.name}-${location.name}`);
      if (!location.image || !location.image.trim()) {
        throw new InvalidPropError(this, `${prop}.image`, location.image ?? null, 'allowed: the image with this location\'s code and Dagster at the pinned release');
      }
      const port = location.port ?? DAGSTER_CODE_PORT;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidPropError(this, `${prop}.port`, location.port, 'allowed: a TCP port, 1-65535');
      }
      if (port === DAGSTER_WEBSERVER_PORT) {
        throw new InvalidPropError(this, `${prop}.port`, location.port, `allowed: any port but the webserver's ${DAGSTER_WEBSERVER_PORT}`);
      }
      const target = [location.module, location.packageName].filter(t => t !== undefined);
      if (target.length !== 1 || !PYTHON_MODULE.test(target[0]!)) {
        throw new InvalidPropError(this, `${prop}.module`, target,
          'allowed: exactly one of module and packageName, a dotted Python name such as my_project.definitions');
      }
    });
  }
}

/**
 * The environment of every run pod: the union of the locations' `env` and `envSecretNames`. It
 * is the launcher's own, not a location's container context, because dagster-k8s lets a run's
 * user-defined config (its `dagster-k8s/config` tag, a location's container context) add only what
 * the launcher's allowlist names, and the allowlist names resources alone: otherwise whoever
 * launches a run picks its ServiceAccount, image, command and Secrets.
 */
function runEnvironment(locations: DagsterCodeLocation[]): { runEnvVars: string[]; runEnvSecretNames: string[] } {
  const vars = new Map(locations.flatMap(l => Object.entries(l.env ?? {})));
  return {
    runEnvVars: [...vars].map(([k, v]) => `${k}=${v}`),
    runEnvSecretNames: [...new Set(locations.flatMap(l => l.envSecretNames ?? []))],
  };
}
