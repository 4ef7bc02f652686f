import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertDnsLabel, assertPositiveInteger, InvalidPropError, isS3Uri, isUnresolved } from '../core/errors';
import { selectorLabels, standardLabels } from '../core/labels';
import { AlbOptions, albIngressAnnotations, albIngressClass } from '../core/ingress';
import { assertCidr, clientPeers, NAMESPACE_NAME_LABEL } from '../core/network';
import { resolveProfile, StackProfile } from '../core/profile';
import { MLFLOW_DEFAULTS, MlflowSizing } from './defaults';
import {
  clusterIpService, disruptionBudget, restrictedPodSpec, ServerIdentity, serverNetworkPolicy, serviceAccount,
} from '../core/server';
import { httpProbes, resources, restrictedContainerSecurityContext, rollWithoutDowntime, zoneSpread } from '../core/workload';
import { imageRef, MLFLOW_IMAGE } from '../versions';
import { allowedHosts } from './allowed-hosts';
import { dbBootstrapScript } from '../core/db-bootstrap';
import { MIGRATE_SCRIPT } from './migrate';

/** Label a pod must carry, in one of the client namespaces, for the NetworkPolicy to let it reach MLflow. */
export const MLFLOW_CLIENT_LABEL = 'mlflow.cdk-mlops-stack.io/client';

/** Directory of the backend store's CA bundle in every container that connects to the database. */
export const BACKEND_STORE_CA_DIR = '/etc/mlflow-db-ca';
/** The CA bundle file, for `sslrootcert=` in the backend URI (key `ca.pem` of the ConfigMap). */
export const BACKEND_STORE_CA_FILE = `${BACKEND_STORE_CA_DIR}/ca.pem`;

/** MLflow's port inside the pod and on the Service. */
export const MLFLOW_PORT = 5000;

/**
 * An Ingress in front of MLflow, HTTPS only. By default the chart creates an EKS Auto Mode ALB class
 * for it (internal unless `scheme` says otherwise); `className` uses an existing controller instead.
 */
export interface MlflowIngressOptions extends AlbOptions {
  /** Host name users reach MLflow at (the TLS host); added to MLflow's allowed hosts and CORS origins. */
  readonly host: string;
  /**
   * An existing IngressClass to use instead of the EKS Auto Mode one the chart creates; `scheme`,
   * `certificateArn` and `subnetIds` then belong to that controller's configuration and are refused.
   * @default - `<namespace>-<name>`, created with its IngressClassParams
   */
  readonly className?: string;
  /**
   * Namespace of an in-cluster ingress controller allowed through the NetworkPolicy.
   * @default - none; use `allowFromCidrs` for a controller outside the cluster (ALB)
   */
  readonly controllerNamespace?: string;
  /**
   * Address ranges allowed through the NetworkPolicy, for load balancers that send traffic
   * straight to pod IPs (the ALB in IP mode sends from the addresses of its own subnets). They must
   * not cover pod addresses, or every pod could reach MLflow (the AWS layer refuses such ranges).
   * @default - none
   */
  readonly allowFromCidrs?: string[];
}

/** Properties of an `MlflowServer`. */
export interface MlflowServerProps {
  /**
   * Namespace to run in (must exist).
   * @default 'mlflow'
   */
  readonly namespace?: string;
  /**
   * Name of the Deployment, Service and ServiceAccount.
   * @default 'mlflow'
   */
  readonly name?: string;
  /**
   * Sets replicas, workers and resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /** Name of the Secret holding the backend store URI (`postgresql+psycopg2://...`). */
  readonly backendStoreSecretName: string;
  /**
   * Key of the URI in that Secret.
   * @default 'uri'
   */
  readonly backendStoreSecretKey?: string;
  /**
   * Secret with `username` and `password` of a PostgreSQL admin role (RDS's master user) that may
   * create roles and owns the database. When set, a `db-bootstrap` init container, the only
   * container that sees it, makes the backend URI's user a role that owns the URI's database and
   * nothing else, before migrations run as that role. The server never holds admin credentials.
   * @default - none; the URI's user must already exist and own its database
   */
  readonly backendStoreAdminSecretName?: string;
  /**
   * ConfigMap whose key `ca.pem` holds the CA bundle of the database server, mounted at
   * `/etc/mlflow-db-ca` in every container that connects (`BACKEND_STORE_CA_FILE`), for a URI with
   * `sslmode=verify-full&sslrootcert=/etc/mlflow-db-ca/ca.pem`.
   * @default - none; the URI decides how the server certificate is checked
   */
  readonly backendStoreCaConfigMapName?: string;
  /** Where the server stores artifacts it proxies, `s3://bucket/prefix`. Clients need no S3 access. */
  readonly artifactsDestination: string;
  /**
   * Endpoint of an S3-compatible store (MinIO, Ceph); leave unset for AWS S3.
   * @default - AWS S3
   */
  readonly s3EndpointUrl?: string;
  /**
   * AWS region of the artifact bucket, for the S3 client.
   * @default - the AWS SDK's own resolution
   */
  readonly awsRegion?: string;
  /**
   * Replicas of the server.
   * @default 1 in DEVELOPMENT, 2 in PRODUCTION (PRODUCTION refuses fewer than 2)
   */
  readonly replicas?: number;
  /**
   * uvicorn worker processes per replica.
   * @default 2 in DEVELOPMENT, 4 in PRODUCTION
   */
  readonly workers?: number;
  /**
   * Cluster DNS domain, for the in-cluster host names MLflow accepts.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Annotations of the ServiceAccount (e.g. `eks.amazonaws.com/role-arn` for IRSA).
   * @default - none; on EKS the stack uses Pod Identity, which needs no annotation
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };
  /**
   * Namespaces whose pods labelled `mlflow.cdk-mlops-stack.io/client: "true"` may reach MLflow
   * (training jobs, pipelines, serving). Pods elsewhere cannot connect, whatever their labels.
   * @default - MLflow's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Exposes MLflow through an Ingress.
   * @default - in-cluster only
   */
  readonly ingress?: MlflowIngressOptions;
  /**
   * Turns on MLflow's basic auth (`--app-name basic-auth`); clients then send
   * MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.
   * @default - no login; access is limited by the NetworkPolicy
   */
  readonly basicAuth?: MlflowBasicAuthOptions;
}

/** What users without an explicit grant may do, under basic auth. */
export enum MlflowPermission {
  /** See every experiment and model. */
  READ = 'READ',
  /** Also log to and change them. */
  EDIT = 'EDIT',
  /** Also delete them and manage their permissions. */
  MANAGE = 'MANAGE',
  /** Nothing without an explicit grant. */
  NO_PERMISSIONS = 'NO_PERMISSIONS',
}

/** MLflow basic auth. Every credential comes from a Secret; none is in the manifest. */
export interface MlflowBasicAuthOptions {
  /** Secret holding the admin password and the Flask session key. */
  readonly secretName: string;
  /**
   * Key of the admin password in the Secret.
   * @default 'admin-password'
   */
  readonly adminPasswordKey?: string;
  /**
   * Key of the Flask secret key (signs sessions and CSRF tokens; shared by all replicas).
   * @default 'flask-secret-key'
   */
  readonly flaskSecretKeyKey?: string;
  /**
   * Name of the admin user created on first start.
   * @default 'admin'
   */
  readonly adminUsername?: string;
  /**
   * What users may do without an explicit grant.
   * @default MlflowPermission.READ
   */
  readonly defaultPermission?: MlflowPermission;
}


/** Mount point of the writable scratch volume; also HOME and TMPDIR. */
const SCRATCH = '/tmp';
const AUTH_DIR = '/etc/mlflow-auth';

/**
 * The MLflow tracking server and model registry for any Kubernetes cluster.
 *
 * Artifacts are proxied by the server to `artifactsDestination`, so clients need only the
 * tracking URI. A `db-upgrade` init container runs `mlflow db upgrade` under a PostgreSQL
 * advisory lock before the server starts, so replicas starting together migrate once. The
 * server accepts only its in-cluster service names (and the ingress host) in the Host header,
 * and the NetworkPolicy admits only pods labelled `mlflow.cdk-mlops-stack.io/client: "true"` in
 * the namespaces of `clientNamespaces`.
 * With `basicAuth`, MLflow's basic-auth app guards every API but the health paths.
 */
export class MlflowServer extends Chart {
  /** The server Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** The ClusterIP Service. */
  public readonly service: k8s.KubeService;
  /** The ServiceAccount pods run as (bind cloud permissions to it). */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The NetworkPolicy admitting clients. */
  public readonly networkPolicy: k8s.KubeNetworkPolicy;
  /** The PodDisruptionBudget, when there is more than one replica. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The Ingress, when `ingress` is set. */
  public readonly ingress?: k8s.KubeIngress;
  /** `http://name.namespace.svc.<domain>:5000`, the tracking URI for in-cluster clients. */
  public readonly trackingUri: string;
  /** Host header values the server accepts. */
  public readonly allowedHosts: string[];
  /** Replicas, workers and resources, defaults resolved. */
  public readonly sizing: MlflowSizing;

  constructor(scope: Construct, id: string, props: MlflowServerProps) {
    super(scope, id, { namespace: props.namespace ?? 'mlflow' });
    const namespace = props.namespace ?? 'mlflow';
    const name = props.name ?? 'mlflow';
    const profile = resolveProfile(props.profile);
    const defaults = MLFLOW_DEFAULTS[profile];
    const replicas = props.replicas ?? defaults.replicas;
    const workers = props.workers ?? defaults.workers;
    this.sizing = { ...defaults, replicas, workers };
    const domain = props.clusterDomain ?? 'cluster.local';
    this.validate(props, { namespace, name, profile, replicas, workers, domain });
    guardAgainstClashes(this);

    const labels = standardLabels('mlflow', name, MLFLOW_IMAGE.release);
    const selector = selectorLabels('mlflow', name);
    this.allowedHosts = allowedHosts(name, namespace, domain, MLFLOW_PORT, props.ingress?.host);
    this.trackingUri = `http://${name}.${namespace}.svc.${domain}:${MLFLOW_PORT}`;

    const server: ServerIdentity = { name, labels, selector };
    this.serviceAccount = serviceAccount(this, 'ServiceAccount', name, labels, props.serviceAccountAnnotations);

    const backendUri: k8s.EnvVar = {
      name: 'MLFLOW_BACKEND_STORE_URI',
      valueFrom: { secretKeyRef: { name: props.backendStoreSecretName, key: props.backendStoreSecretKey ?? 'uri' } },
    };
    const common: k8s.EnvVar[] = [
      backendUri,
      { name: 'HOME', value: SCRATCH },
      { name: 'TMPDIR', value: SCRATCH },
      // No usage reports leave the cluster.
      { name: 'MLFLOW_DISABLE_TELEMETRY', value: 'true' },
      { name: 'DO_NOT_TRACK', value: 'true' },
      ...(props.s3EndpointUrl ? [{ name: 'MLFLOW_S3_ENDPOINT_URL', value: props.s3EndpointUrl }] : []),
      ...(props.awsRegion ? [{ name: 'AWS_DEFAULT_REGION', value: props.awsRegion }] : []),
    ];
    const scratchMount = { name: 'scratch', mountPath: SCRATCH };
    // Every container that reads the backend URI also gets the CA bundle the URI may point at.
    const caMounts: k8s.VolumeMount[] = props.backendStoreCaConfigMapName
      ? [{ name: 'db-ca', mountPath: BACKEND_STORE_CA_DIR, readOnly: true }] : [];
    const caVolumes: k8s.Volume[] = props.backendStoreCaConfigMapName
      ? [{ name: 'db-ca', configMap: { name: props.backendStoreCaConfigMapName, items: [{ key: 'ca.pem', path: 'ca.pem' }] } }] : [];
    const auth = props.basicAuth ? basicAuthParts(props.basicAuth, backendUri, caMounts) : undefined;

    const container: k8s.Container = {
      name: 'mlflow',
      image: imageRef(MLFLOW_IMAGE),
      command: ['mlflow', 'server'],
      args: [
        '--host', '0.0.0.0',
        '--port', String(MLFLOW_PORT),
        '--workers', String(workers),
        '--serve-artifacts',
        '--artifacts-destination', props.artifactsDestination,
        ...(auth ? ['--app-name', 'basic-auth'] : []),
      ],
      env: [
        ...common,
        // Set through the environment, where MLflow also honours them with gunicorn; see allowed-hosts.ts.
        { name: 'MLFLOW_SERVER_ALLOWED_HOSTS', value: this.allowedHosts.join(',') },
        ...(props.ingress ? [{ name: 'MLFLOW_SERVER_CORS_ALLOWED_ORIGINS', value: `https://${props.ingress.host}` }] : []),
        ...(auth?.serverEnv ?? []),
      ],
      ports: [{ name: 'http', containerPort: MLFLOW_PORT, protocol: 'TCP' }],
      ...httpProbes('/health', 'http', 120),
      resources: resources(this.sizing.cpu, this.sizing.memory),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [scratchMount, ...caMounts, ...(auth?.mounts ?? [])],
    };

    const initContainers = this.initContainers(props, { backendUri, common, scratchMount, caMounts, auth });

    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        strategy: rollWithoutDowntime(),
        template: {
          metadata: { labels },
          spec: restrictedPodSpec(name, {
            initContainers,
            containers: [container],
            volumes: [{ name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString('2Gi') } }, ...caVolumes, ...(auth?.volumes ?? [])],
            ...(replicas > 1 ? { topologySpreadConstraints: zoneSpread(selector) } : {}),
          }),
        },
      },
    });

    this.service = clusterIpService(this, server, 'http', MLFLOW_PORT);
    if (replicas > 1) this.podDisruptionBudget = disruptionBudget(this, server);

    const exposed = this.expose(props, server, namespace);
    this.networkPolicy = exposed.networkPolicy;
    this.ingress = exposed.ingress;
  }

  /** The init containers: the database bootstrap (with admin credentials), the auth config, the migration. */
  private initContainers(props: MlflowServerProps, c: {
    backendUri: k8s.EnvVar; common: k8s.EnvVar[]; scratchMount: k8s.VolumeMount; caMounts: k8s.VolumeMount[]; auth?: ReturnType<typeof basicAuthParts>;
  }): k8s.Container[] {
    const { backendUri, common, scratchMount, caMounts, auth } = c;
    const bootstrap: k8s.Container[] = props.backendStoreAdminSecretName ? [{
      name: 'db-bootstrap',
      image: imageRef(MLFLOW_IMAGE),
      command: ['python', '-c', dbBootstrapScript('MLFLOW_BACKEND_STORE_URI')],
      env: [
        backendUri,
        ...['username', 'password'].map(key => ({
          name: `DB_ADMIN_${key.toUpperCase()}`,
          valueFrom: { secretKeyRef: { name: props.backendStoreAdminSecretName!, key } },
        })),
        { name: 'HOME', value: SCRATCH },
      ],
      resources: resources('50m', '128Mi'),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [scratchMount, ...caMounts],
    }] : [];

    const migrate: k8s.Container = {
      name: 'db-upgrade',
      image: imageRef(MLFLOW_IMAGE),
      command: ['python', '-c', MIGRATE_SCRIPT],
      env: [...common, ...(auth?.bootstrapEnv ?? [])],
      resources: resources('250m', '512Mi'),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [scratchMount, ...caMounts, ...(auth?.mounts ?? [])],
    };
    return [...bootstrap, ...(auth ? [auth.writeConfig] : []), migrate];
  }

  /** Who may reach the server: its NetworkPolicy (clients, the ingress controller or CIDRs) and, with `ingress`, the Ingress. */
  private expose(props: MlflowServerProps, server: ServerIdentity, namespace: string): { networkPolicy: k8s.KubeNetworkPolicy; ingress?: k8s.KubeIngress } {
    const { name, labels } = server;
    const ingressPeers: k8s.NetworkPolicyPeer[] = [
      ...(props.ingress?.controllerNamespace
        ? [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: props.ingress.controllerNamespace } } }]
        : []),
      ...(props.ingress?.allowFromCidrs ?? []).map(cidr => ({ ipBlock: { cidr } })),
    ];
    const networkPolicy = serverNetworkPolicy(this, server, MLFLOW_PORT, [
      ...clientPeers(this, 'clientNamespaces', props.clientNamespaces ?? [namespace], { [MLFLOW_CLIENT_LABEL]: 'true' }),
      ...ingressPeers,
    ]);

    if (!props.ingress) return { networkPolicy };
    const ownClass = props.ingress.className === undefined;
    const ingress = new k8s.KubeIngress(this, 'Ingress', {
      metadata: { name, labels, ...(ownClass ? { annotations: albIngressAnnotations('/health') } : {}) },
      spec: {
        ingressClassName: props.ingress.className ?? albIngressClass(this, name, namespace, labels, props.ingress),
        tls: [{ hosts: [props.ingress.host] }],
        rules: [{
          host: props.ingress.host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: MLFLOW_PORT } } } }] },
        }],
      },
    });
    return { networkPolicy, ingress };
  }

  private validate(props: MlflowServerProps, v: {
    namespace: string; name: string; profile: StackProfile; replicas: number; workers: number; domain: string;
  }): void {
    assertDnsLabel(this, 'namespace', v.namespace);
    assertDnsLabel(this, 'name', v.name);
    assertDnsLabel(this, 'backendStoreSecretName', props.backendStoreSecretName);
    if (props.backendStoreCaConfigMapName !== undefined) assertDnsLabel(this, 'backendStoreCaConfigMapName', props.backendStoreCaConfigMapName);
    if (props.backendStoreAdminSecretName !== undefined) {
      assertDnsLabel(this, 'backendStoreAdminSecretName', props.backendStoreAdminSecretName);
      if (props.backendStoreAdminSecretName === props.backendStoreSecretName) {
        throw new InvalidPropError(this, 'backendStoreAdminSecretName', props.backendStoreAdminSecretName,
          'allowed: a Secret other than backendStoreSecretName; the server must never see the admin credentials');
      }
    }
    assertPositiveInteger(this, 'replicas', v.replicas);
    assertPositiveInteger(this, 'workers', v.workers);
    if (v.profile === StackProfile.PRODUCTION && v.replicas < 2) {
      throw new InvalidPropError(this, 'replicas', v.replicas, 'allowed: at least 2 in PRODUCTION, so a node or zone loss does not stop tracking');
    }
    const dest = props.artifactsDestination;
    if (!isS3Uri(dest)) {
      throw new InvalidPropError(this, 'artifactsDestination', dest,
        'allowed: an S3 URI "s3://<bucket>[/<prefix>]"; the server proxies artifacts there, so clients need no storage credentials');
    }
    if (props.s3EndpointUrl && !isUnresolved(props.s3EndpointUrl) && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(props.s3EndpointUrl)) {
      throw new InvalidPropError(this, 's3EndpointUrl', props.s3EndpointUrl, 'allowed: an http(s):// URL');
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v.domain)) {
      throw new InvalidPropError(this, 'clusterDomain', v.domain, 'allowed: a DNS name such as cluster.local');
    }
    if (props.basicAuth) assertDnsLabel(this, 'basicAuth.secretName', props.basicAuth.secretName);
    const ingress = props.ingress;
    if (ingress?.className !== undefined) {
      for (const prop of ['scheme', 'certificateArn', 'subnetIds'] as const) {
        if (ingress[prop] !== undefined) {
          throw new InvalidPropError(this, `ingress.${prop}`, ingress[prop],
            'allowed: unset when ingress.className names an existing class; configure that controller instead');
        }
      }
    }
    (ingress?.allowFromCidrs ?? []).filter(c => !isUnresolved(c)).forEach(c => assertCidr(this, 'ingress.allowFromCidrs', c));
    const host = props.ingress?.host;
    if (host !== undefined && !isUnresolved(host)
      && !/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/.test(host)) {
      throw new InvalidPropError(this, 'ingress.host', host, 'allowed: a lowercase fully qualified DNS name such as mlflow.example.com');
    }
  }
}

/**
 * The parts basic auth adds. MLflow reads the auth database URI only from its INI file, so an
 * init container writes the INI from the backend URI Secret into a memory-backed volume; the admin
 * credentials and the Flask key go in as environment variables from the auth Secret. The auth
 * tables live in the same PostgreSQL database as the tracking data (their names do not clash), so
 * every replica sees the same users.
 */
function basicAuthParts(options: MlflowBasicAuthOptions, backendUri: k8s.EnvVar, caMounts: k8s.VolumeMount[]) {
  const fromSecret = (name: string, key: string): k8s.EnvVar => ({ name, valueFrom: { secretKeyRef: { name: options.secretName, key } } });
  const configPath = `${AUTH_DIR}/basic_auth.ini`;
  const admin: k8s.EnvVar[] = [
    { name: 'MLFLOW_AUTH_CONFIG_PATH', value: configPath },
    { name: 'MLFLOW_AUTH_ADMIN_USERNAME', value: options.adminUsername ?? 'admin' },
    fromSecret('MLFLOW_AUTH_ADMIN_PASSWORD', options.adminPasswordKey ?? 'admin-password'),
  ];
  const writeConfig: k8s.Container = {
    name: 'auth-config',
    image: imageRef(MLFLOW_IMAGE),
    command: ['python', '-c', [
      'import configparser, os',
      'ini = configparser.ConfigParser(interpolation=None)',
      'ini["mlflow"] = {',
      `    "default_permission": "${options.defaultPermission ?? MlflowPermission.READ}",`,
      '    "database_uri": os.environ["MLFLOW_BACKEND_STORE_URI"],',
      '    "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",',
      '}',
      `with open("${configPath}", "w") as f:`,
      '    ini.write(f)',
    ].join('\n')],
    env: [backendUri],
    resources: resources('50m', '128Mi'),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [{ name: 'auth-config', mountPath: AUTH_DIR }, ...caMounts],
  };
  return {
    writeConfig,
    volumes: [{ name: 'auth-config', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } }],
    mounts: [{ name: 'auth-config', mountPath: AUTH_DIR, readOnly: true }],
    bootstrapEnv: admin,
    serverEnv: [...admin, fromSecret('MLFLOW_FLASK_SERVER_SECRET_KEY', options.flaskSecretKeyKey ?? 'flask-secret-key')],
  };
}
