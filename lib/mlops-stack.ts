import { Stack, StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { assertDnsLabel } from '../constructs/core/errors';
import { guardStackAgainstClashes } from './core/clashes';
import { MlopsCluster } from './platform/cluster';
import { GpuNodePoolOptions } from './platform/gpu-node-pool';
import { DvcRemote, DvcRemoteProps } from './dvc/dvc-remote';
import { DagsterOnAws, DagsterOptions } from './dagster/dagster';
import { ExternalSecrets } from './platform/external-secrets';
import { FeastOnAws, FeastOptions } from './feast/feast';
import { EvidentlyOnAws, EvidentlyOptions } from './evidently/evidently';
import { KServeOnAws, KServeOptions } from './kserve/kserve';
import { MlflowOnAws, MlflowOptions } from './mlflow/mlflow';
import { PlatformHealthAlarms } from './core/health-alarms';
import { addComponentNamespaces, ComponentPlatform } from './core/platform';
import { PodIdentityRole } from './core/pod-identity';
import { resolveProfile, StackProfile } from './core/profile';

/** Properties of the reference `MlopsStack`. */
export interface MlopsStackProps extends StackProps {
  /**
   * Cost and availability defaults of every component.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * API endpoint access of the cluster; see `MlopsClusterProps.endpointAccess` for the trade-off.
   * @default eks.EndpointAccess.PRIVATE
   */
  readonly endpointAccess?: eks.EndpointAccess;
  /**
   * ARN of an IAM role granted cluster-admin.
   * @default - none; the stack outputs how to add one
   */
  readonly adminRoleArn?: string;
  /**
   * Settings of the DVC remote.
   * @default - a KMS-encrypted, content-addressed remote under the `dvc` prefix
   */
  readonly dvc?: DvcRemoteProps;
  /**
   * Settings of the MLflow tracking server and model registry.
   * @default - sized by `profile`, in-cluster only
   */
  readonly mlflow?: MlflowOptions;
  /**
   * Settings of Feast (feature server, materialization, ElastiCache online store).
   * @default - sized by `profile`, in-cluster only
   */
  readonly feast?: FeastOptions;
  /**
   * Settings of Dagster (webserver, daemon, code locations, PostgreSQL, compute logs).
   * @default - sized by `profile`, no code locations yet, in-cluster only
   */
  readonly dagster?: DagsterOptions;
  /**
   * Settings of KServe (controller, model namespace, the models to serve, payload logs).
   * @default - Standard mode, namespace `models`, no models yet, payload logs as JSON kept 90 days
   */
  readonly kserve?: KServeOptions;
  /**
   * Settings of Evidently (drift checks of the models that declare a `driftCheck`, their UI).
   * @default - checks in namespace `monitoring`, reports kept 90 days, no UI
   */
  readonly evidently?: EvidentlyOptions;
  /**
   * A node pool of NVIDIA GPU instances; served models with `gpus` land there without naming it.
   * @default - no GPU nodes; a model with `gpus` fails at synth
   */
  readonly gpuNodePool?: GpuNodePoolOptions;
}

/**
 * The reference MLOps stack: one EKS Auto Mode cluster with External Secrets, and the components
 * of the stack wired to it (DVC remote, MLflow, Feast, Dagster, KServe), each in its own namespace. Each part is exposed so that users can extend or replace it.
 */
export class MlopsStack extends Stack {
  /** The profile every default was taken from. */
  public readonly profile: StackProfile;
  /** The cluster and its VPC. */
  public readonly platform: MlopsCluster;
  /** The EKS cluster. */
  public readonly cluster: eks.Cluster;
  /** The secret delivery path of the stack. */
  public readonly externalSecrets: ExternalSecrets;
  /** What every component of the stack takes from the platform (pass it to components you add). */
  public readonly componentPlatform: ComponentPlatform;
  /** Namespace of each component, by component name (`mlflow`, ...). */
  public readonly namespaces: { [component: string]: string };
  /** The DVC remote. */
  public readonly dvc: DvcRemote;
  /** MLflow: database, artifact bucket, pods. */
  public readonly mlflow: MlflowOnAws;
  /** Feast: online store, registry and offline bucket, feature server, materialization. */
  public readonly feast: FeastOnAws;
  /** Dagster: database, compute-log bucket, webserver, daemon, code locations. */
  public readonly dagster: DagsterOnAws;
  /** KServe: controller, payload-log bucket, model namespace and its InferenceServices. */
  public readonly kserve: KServeOnAws;
  /**
   * Evidently: the drift bucket (references, reports), its key and alert topic, which exist
   * whatever the checks are, and the drift checks of the models that declare a `driftCheck`.
   */
  public readonly evidently: EvidentlyOnAws;
  /** Alarms on the databases and the cache, to the alert topic (`evidently.topic`). */
  public readonly health: PlatformHealthAlarms;

  constructor(scope: Construct, id: string, props: MlopsStackProps = {}) {
    super(scope, id, props);
    guardStackAgainstClashes(this);
    this.profile = resolveProfile(props.profile);

    this.platform = new MlopsCluster(this, 'Platform', {
      profile: this.profile,
      endpointAccess: props.endpointAccess,
      adminRoleArn: props.adminRoleArn,
      gpuNodePool: props.gpuNodePool,
    });
    this.cluster = this.platform.cluster;
    this.externalSecrets = new ExternalSecrets(this, 'ExternalSecrets', { cluster: this.cluster });
    // Pods need the stack's node pool, where NetworkPolicy is enforced.
    this.externalSecrets.release.node.addDependency(this.platform.nodes);

    // The DVC remote's access-log bucket receives every component's access logs.
    this.dvc = new DvcRemote(this, 'DvcRemote', props.dvc);
    this.componentPlatform = {
      cluster: this.cluster,
      vpc: this.platform.vpc,
      secrets: this.externalSecrets,
      nodes: this.platform.nodes,
      profile: this.profile,
      accessLogsBucket: this.dvc.accessLogsBucket,
      gpuScheduling: this.platform.gpuScheduling,
    };
    const platform = this.componentPlatform;

    // One namespace per component, so no component's pods can run as another's ServiceAccount.
    // These three share one manifest because they did before components made their own
    // namespaces: replacing it would delete the namespaces after the new one had created them.
    this.namespaces = {
      mlflow: props.mlflow?.namespace ?? 'mlflow',
      feast: props.feast?.namespace ?? 'feast',
      dagster: props.dagster?.namespace ?? 'dagster',
    };
    for (const [component, namespace] of Object.entries(this.namespaces)) assertDnsLabel(this, `${component}.namespace`, namespace);
    const workloadNamespace = addComponentNamespaces(platform, 'WorkloadNamespace', this.namespaces);

    this.mlflow = new MlflowOnAws(this, 'Mlflow', { ...props.mlflow, platform });
    this.mlflow.manifest.node.addDependency(workloadNamespace);
    this.feast = new FeastOnAws(this, 'Feast', { ...props.feast, platform });
    this.feast.manifest.node.addDependency(workloadNamespace);
    this.dagster = new DagsterOnAws(this, 'Dagster', { ...props.dagster, platform });
    this.dagster.manifest.node.addDependency(workloadNamespace);

    // Models are served from MLflow's artifact store, so a registered version needs no copy.
    this.kserve = new KServeOnAws(this, 'KServe', { ...props.kserve, platform, mlflow: this.mlflow });

    // Made whatever the checks are: the retained bucket holds the references, so dropping the last
    // check must not take it out of the stack, nor adding one make a new, empty one. The id
    // predates the construct's name; it stays, so the drift bucket keeps its logical ID.
    this.evidently = new EvidentlyOnAws(this, 'Drift', {
      ...props.evidently, platform, models: this.kserve.driftChecks, payloadLogs: this.kserve.payloadLogs,
    });
    // The databases and the cache the components stand on, on the same topic as drift.
    this.health = new PlatformHealthAlarms(this, 'Health', {
      topic: this.evidently.topic,
      databases: [{ component: 'MLflow', instance: this.mlflow.database }, { component: 'Dagster', instance: this.dagster.database }],
      cache: this.feast.onlineStore,
    });
  }

  /**
   * A role that pods running as `serviceAccount` in `namespace` assume through EKS Pod Identity;
   * grant it what the component needs.
   */
  public podIdentity(id: string, serviceAccount: string, namespace: string): PodIdentityRole {
    return new PodIdentityRole(this, id, { cluster: this.cluster, namespace, serviceAccount });
  }
}
