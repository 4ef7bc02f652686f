import { Stack, StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsLabel } from '../constructs/core/errors';
import { ComponentNamespace } from '../constructs/core/namespace';
import { guardStackAgainstClashes } from './clashes';
import { MlopsCluster } from './cluster';
import { DvcRemote, DvcRemoteProps } from './dvc-remote';
import { DagsterOnAws, DagsterOptions } from './dagster';
import { ExternalSecrets } from './external-secrets';
import { Feast, FeastOptions } from './feast';
import { DriftMonitoring } from './drift-monitoring';
import { KServeOnAws, KServeOptions } from './kserve';
import { Mlflow, MlflowOptions } from './mlflow';
import { PodIdentityRole } from './pod-identity';
import { StackProfile } from './profile';

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
  /** Namespace of each component, by component name (`mlflow`, ...). */
  public readonly namespaces: { [component: string]: string };
  /** The DVC remote. */
  public readonly dvc: DvcRemote;
  /** MLflow: database, artifact bucket, pods. */
  public readonly mlflow: Mlflow;
  /** Feast: online store, registry and offline bucket, feature server, materialization. */
  public readonly feast: Feast;
  /** Dagster: database, compute-log bucket, webserver, daemon, code locations. */
  public readonly dagster: DagsterOnAws;
  /** KServe: controller, payload-log bucket, model namespace and its InferenceServices. */
  public readonly kserve: KServeOnAws;
  /** Evidently drift checks of the models that declare a `driftCheck`, with their alarms. */
  public readonly drift?: DriftMonitoring;

  constructor(scope: Construct, id: string, props: MlopsStackProps = {}) {
    super(scope, id, props);
    guardStackAgainstClashes(this);
    this.profile = props.profile ?? StackProfile.DEVELOPMENT;
    // One namespace per component, so no component's pods can run as another's ServiceAccount.
    this.namespaces = {
      mlflow: props.mlflow?.namespace ?? 'mlflow',
      feast: props.feast?.namespace ?? 'feast',
      dagster: props.dagster?.namespace ?? 'dagster',
    };
    for (const [component, namespace] of Object.entries(this.namespaces)) assertDnsLabel(this, `${component}.namespace`, namespace);

    this.platform = new MlopsCluster(this, 'Platform', {
      profile: this.profile,
      endpointAccess: props.endpointAccess,
      adminRoleArn: props.adminRoleArn,
    });
    this.cluster = this.platform.cluster;

    // The logical ID predates per-component namespaces; it is kept because a namespace manifest
    // that is replaced deletes its namespaces after the new one has created them.
    const workloads = new cdk8s.Chart(new cdk8s.App(), 'Workloads');
    for (const [component, namespace] of Object.entries(this.namespaces)) new ComponentNamespace(workloads, component, namespace);
    const workloadNamespace = this.cluster.addCdk8sChart('WorkloadNamespace', workloads);

    this.externalSecrets = new ExternalSecrets(this, 'ExternalSecrets', {
      cluster: this.cluster,
      namespaces: Object.values(this.namespaces),
    });

    // Pods need the stack's node pool, where NetworkPolicy is enforced.
    this.externalSecrets.chart.node.addDependency(this.platform.nodes);

    this.dvc = new DvcRemote(this, 'DvcRemote', props.dvc);

    this.mlflow = new Mlflow(this, 'Mlflow', {
      ...props.mlflow,
      cluster: this.cluster,
      vpc: this.platform.vpc,
      externalSecrets: this.externalSecrets,
      namespace: this.namespaces.mlflow,
      profile: this.profile,
      accessLogsBucket: this.dvc.accessLogsBucket,
    });
    this.mlflow.manifest.node.addDependency(workloadNamespace);

    this.feast = new Feast(this, 'Feast', {
      ...props.feast,
      cluster: this.cluster,
      vpc: this.platform.vpc,
      externalSecrets: this.externalSecrets,
      namespace: this.namespaces.feast,
      profile: this.profile,
      accessLogsBucket: this.dvc.accessLogsBucket,
    });
    this.feast.manifest.node.addDependency(workloadNamespace);

    this.dagster = new DagsterOnAws(this, 'Dagster', {
      ...props.dagster,
      cluster: this.cluster,
      vpc: this.platform.vpc,
      externalSecrets: this.externalSecrets,
      namespace: this.namespaces.dagster,
      profile: this.profile,
      accessLogsBucket: this.dvc.accessLogsBucket,
    });
    this.dagster.manifest.node.addDependency(workloadNamespace);

    // Models are served from MLflow's artifact store, so a registered version needs no copy.
    this.kserve = new KServeOnAws(this, 'KServe', {
      ...props.kserve,
      cluster: this.cluster,
      profile: this.profile,
      accessLogsBucket: this.dvc.accessLogsBucket,
      mlflowArtifacts: {
        bucket: this.mlflow.artifactBucket,
        encryptionKey: this.mlflow.artifactKey,
        prefix: this.mlflow.artifactPrefix,
        trackingUri: this.mlflow.trackingUri,
      },
    });
    // The node pool with NetworkPolicy enforcement comes before any pod; KServe's pods all come
    // after cert-manager's, and its CRD and runtime releases start none.
    this.kserve.install.certManager.node.addDependency(this.platform.nodes);

    const checked = (props.kserve?.models ?? []).filter(m => m.driftCheck);
    if (checked.length > 0) {
      this.drift = new DriftMonitoring(this, 'Drift', {
        cluster: this.cluster,
        models: checked.map(m => ({ ...m.driftCheck, model: m.name })),
        payloadLogBucket: this.kserve.payloadLogBucket,
        payloadLogKey: this.kserve.payloadLogKey,
        payloadLogUrl: this.kserve.payloadLogUrl,
        payloadLogPrefix: this.kserve.payloadLogPrefix,
        payloadLogPath: this.kserve.payloadLogPath,
        modelNamespace: this.kserve.modelNamespace,
        profile: this.profile,
        accessLogsBucket: this.dvc.accessLogsBucket,
        ui: props.kserve?.driftUi,
      });
      this.drift.namespaceManifest.node.addDependency(this.platform.nodes);
    }
  }

  /**
   * A role that pods running as `serviceAccount` in `namespace` assume through EKS Pod Identity;
   * grant it what the component needs.
   */
  public podIdentity(id: string, serviceAccount: string, namespace: string): PodIdentityRole {
    return new PodIdentityRole(this, id, { cluster: this.cluster, namespace, serviceAccount });
  }
}
