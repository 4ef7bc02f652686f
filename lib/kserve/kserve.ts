import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsLabel, InvalidPropError, isUnresolved, reportPropsAt } from '../../constructs/core/errors';
import { standardLabels } from '../../constructs/core/labels';
import { ComponentNamespace } from '../../constructs/core/namespace';
import { StackProfile } from '../../constructs/core/profile';
import { serviceAccount } from '../../constructs/core/server';
import { DriftCheckOptions, ModelDriftOptions, resolveDriftCheck } from '../../constructs/evidently/drift-monitor';
import { PAYLOAD_LOG_RETENTION_DAYS } from '../../constructs/kserve/defaults';
import { InferenceService, InferenceServiceOptions, ModelCanary } from '../../constructs/kserve/inference-service';
import { PayloadLogFormat, PayloadLogMode } from '../../constructs/kserve/payload-logger';
import { MlflowInferenceService, MlflowModelVersion } from '../../constructs/kserve/registered-model';
import { ModelFormat } from '../../constructs/kserve/runtimes';
import { S3StorageContainer } from '../../constructs/kserve/storage-container';
import { createDataBucket, createDataKey, grantPrefixAccess, ModelSource, useBucketPolicyForAccessLogs } from '../core/buckets';
import { guardStackAgainstClashes } from '../core/clashes';
import { ComponentPlatform, resolvePlatform } from '../core/platform';
import { PodIdentityRole } from '../core/pod-identity';
import { IMlflowModelStore } from '../mlflow/mlflow';
import { GpuScheduling } from '../platform/gpu-node-pool';
import { KServeInstall } from './install';
import { PayloadLogs } from './payload-logs';

/** One model the stack serves: exactly one of `storageUri` (with `modelFormat`) or `mlflowModelVersion`. */
export interface ServedModel extends InferenceServiceOptions {
  /**
   * Format of the model at `storageUri`.
   * @default - required with `storageUri`; `mlflow` for `mlflowModelVersion`
   */
  readonly modelFormat?: ModelFormat;
  /**
   * `s3://` URI of the model, under one of the stack's model sources.
   * @default - the artifacts of `mlflowModelVersion`
   */
  readonly storageUri?: string;
  /**
   * A version of a model registered in the stack's MLflow; served from the MLflow artifact bucket
   * with its lineage (name, version, run) as annotations.
   * @default - none
   */
  readonly mlflowModelVersion?: MlflowModelVersion;
  /**
   * A canary version taking a share of the traffic.
   * @default - none
   */
  readonly canary?: ModelCanary;
  /**
   * Check the model's live traffic for drift with Evidently (needs payload logging); its reference
   * dataset goes to `s3://<drift bucket>/references/<name>.parquet`.
   * @default - no drift checks
   */
  readonly driftCheck?: DriftCheckOptions;
}

/** A bucket prefix, named by the bucket's name, the models may be read from (`KServeOptions.modelSources`). */
export interface ModelSourceOptions {
  /** Name of the bucket. */
  readonly bucketName: string;
  /** Key prefix the models are under, without a trailing `/`. */
  readonly prefix: string;
  /**
   * ARN of the bucket's customer managed key, if it has one (the model roles get kms:Decrypt through S3 only).
   * @default - SSE-S3
   */
  readonly keyArn?: string;
}

/** What a user chooses about KServe; the stack supplies the rest (`KServeOnAwsProps`). */
export interface KServeOptions {
  /**
   * Buckets (by name) and prefixes models may be read from, besides the stack's MLflow. A model's
   * `storageUri` must lie under one of them or MLflow's artifact store, or synth fails.
   * @default - only the stack's MLflow
   */
  readonly modelSourceBuckets?: ModelSourceOptions[];
  /**
   * Namespace of KServe's controller.
   * @default 'kserve'
   */
  readonly namespace?: string;
  /**
   * Namespace of the InferenceServices: its own (Pod Security "restricted", default-deny ingress),
   * with one ServiceAccount whose role reads the model sources and writes the payload logs.
   * @default 'models'
   */
  readonly modelNamespace?: string;
  /**
   * The models to serve.
   * @default - none; add them once they are registered
   */
  readonly models?: ServedModel[];
  /**
   * Write every prediction to the payload-log bucket (KServe's logger agent, 100m/100Mi per pod).
   * @default true
   */
  readonly payloadLogging?: boolean;
  /**
   * Format of the payload logs.
   * @default PayloadLogFormat.JSON (records carry their event time)
   */
  readonly payloadLogFormat?: PayloadLogFormat;
  /**
   * Days payload logs are kept.
   * @default 90
   */
  readonly payloadLogRetentionDays?: number;
  /**
   * Namespaces whose pods labelled `models.cdk-mlops-stack.io/client: "true"` may call the models.
   * @default - the model namespace only
   */
  readonly clientNamespaces?: string[];
}

/** Properties of `KServeOnAws`. */
export interface KServeOnAwsProps extends KServeOptions {
  /** The platform KServe runs on (its profile sizes the model pods). */
  readonly platform: ComponentPlatform;
  /**
   * Where models may be read from.
   * @default - none: only `mlflowModelVersion` models, if `mlflowArtifacts` is set
   */
  readonly modelSources?: ModelSource[];
  /**
   * The MLflow whose registered versions `mlflowModelVersion` models are (the stack's `MlflowOnAws`),
   * and a model source itself: its artifact prefix.
   * @default - no MLflow models
   */
  readonly mlflow?: IMlflowModelStore;
}

/** What every model of one KServeOnAws shares. */
interface ModelContext {
  readonly namespace: string;
  readonly profile: StackProfile;
  readonly storage: S3StorageContainer;
  readonly logging: boolean;
  readonly clientNamespaces?: string[];
  readonly format: PayloadLogFormat;
  readonly mlflow?: IMlflowModelStore;
  readonly serviceAccountName: string;
  readonly gpuScheduling?: GpuScheduling;
}

/**
 * ServiceAccount KServe reads the agent's S3 settings (region) from. No pod runs as it: its IRSA
 * annotation only makes KServe's credential builder read its `serving.kserve.io/s3-*` annotations.
 */
export const LOGGER_SETTINGS_SERVICE_ACCOUNT = 'payload-logger-settings';
const PAYLOAD_PREFIX = 'payload-logs';
const PAYLOAD_PATH = 'predictions';

/**
 * KServe on EKS: the controller with cert-manager and the serving runtimes (`KServeInstall`), a
 * payload-log bucket (encrypted, retained, expiring), and a model namespace whose ServiceAccount
 * assumes, through EKS Pod Identity, a role that reads only the model sources and writes only that
 * namespace's payload-log prefix. Its InferenceServices download `s3://` models through an
 * `S3StorageContainer` that carries the region, and their logger agents get it from the settings
 * ServiceAccount, so neither depends on what the Pod Identity webhook injects.
 */
export class KServeOnAws extends Construct {
  /** The Helm releases. */
  public readonly install: KServeInstall;
  /** Bucket of the payload logs (`payload-logs/<namespace>/<model>/predictor/predictions/`). */
  public readonly payloadLogBucket: s3.Bucket;
  /** Key of the payload-log bucket. */
  public readonly payloadLogKey: kms.Key;
  /** Where the loggers write, and the grant to read one model's records. */
  public readonly payloadLogs: PayloadLogs;
  /** Each model's role (its pods' ServiceAccount `model-<name>`): reads that model, writes its payload logs. */
  public readonly identities: { [model: string]: PodIdentityRole } = {};
  /** The model namespace's objects (namespace, ServiceAccounts, storage container, InferenceServices). */
  public readonly chart: cdk8s.Chart;
  /** The manifest applying `chart`. */
  public readonly manifest: eks.KubernetesManifest;
  /** Namespace of the models. */
  public readonly modelNamespace: string;
  /** The InferenceServices, by model name. */
  public readonly models: { [name: string]: InferenceService } = {};
  /** The drift checks the models declare (`ServedModel.driftCheck`), for `EvidentlyOnAws`. */
  public readonly driftChecks: ModelDriftOptions[];

  constructor(scope: Construct, id: string, props: KServeOnAwsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const namespace = props.modelNamespace ?? 'models';
    assertDnsLabel(this, 'modelNamespace', namespace);
    if (props.namespace !== undefined) assertDnsLabel(this, 'namespace', props.namespace);
    const models = props.models ?? [];
    models.forEach((model, i) => {
      assertDnsLabel(this, `models[${i}].name`, model.name);
      if (models.findIndex(m => m.name === model.name) !== i) {
        throw new InvalidPropError(this, `models[${i}].name`, model.name, 'allowed: a name no other model has (it names the InferenceService)');
      }
    });
    this.modelNamespace = namespace;
    const { cluster } = props.platform;
    const { profile, accessLogsBucket } = resolvePlatform(this, props.platform);
    const region = Stack.of(this).region;

    this.install = new KServeInstall(this, id, { cluster, namespace: props.namespace });
    // The node pool with NetworkPolicy enforcement comes before any pod; KServe's pods all come
    // after cert-manager's, and its CRD and runtime releases start none.
    if (props.platform.nodes) this.install.certManager.node.addDependency(props.platform.nodes);

    this.payloadLogKey = createDataKey(this, 'PayloadLogKey', `Encryption of KServe payload logs ${this.node.path}`);
    this.payloadLogBucket = createDataBucket(this, 'PayloadLogs', {
      encryptionKey: this.payloadLogKey,
      accessLogsBucket,
      accessLogsPrefix: 'kserve-payload-logs/',
      expirationDays: props.payloadLogRetentionDays ?? PAYLOAD_LOG_RETENTION_DAYS,
      noncurrentVersionExpirationDays: 7,
    });
    this.payloadLogs = new PayloadLogs({
      bucket: this.payloadLogBucket, encryptionKey: this.payloadLogKey, prefix: PAYLOAD_PREFIX, modelNamespace: namespace, path: PAYLOAD_PATH,
    });

    const mlflow = props.mlflow;
    const sources: ModelSource[] = [
      ...(props.modelSources ?? []),
      ...(mlflow ? [mlflow.modelSource] : []),
      ...(props.modelSourceBuckets ?? []).map((o, i) => importedSource(this, i, o)),
    ];

    this.chart = new cdk8s.Chart(new cdk8s.App(), 'Models');
    new ComponentNamespace(this.chart, 'Namespace', namespace);
    const labels = standardLabels('kserve', namespace);
    const logging = props.payloadLogging ?? true;
    if (logging) {
      serviceAccount(this.chart, 'LoggerSettings', LOGGER_SETTINGS_SERVICE_ACCOUNT, labels, {
        // Only the key's presence matters to KServe (it then builds the agent's S3 settings); no
        // pod runs as this account, and the models' own accounts carry no such annotation.
        'eks.amazonaws.com/role-arn': 'unused',
        'serving.kserve.io/s3-region': region,
      }, namespace);
    }
    const storage = new S3StorageContainer(this.chart, 'StorageContainer', { name: `s3-${namespace}`, region });

    this.driftChecks = models.filter(m => m.driftCheck).map(m => ({ ...m.driftCheck, model: m.name }));
    for (const model of models) {
      const account = this.modelServiceAccount(model.name);
      serviceAccount(this.chart, `${model.name}ServiceAccount`, account, labels, undefined, namespace);
      const served = this.models[model.name] = this.addModel(model, {
        namespace, profile, storage, logging, clientNamespaces: props.clientNamespaces,
        format: props.payloadLogFormat ?? PayloadLogFormat.JSON, mlflow, serviceAccountName: account, gpuScheduling: props.platform.gpuScheduling,
      });
      this.identities[model.name] = this.modelIdentity(model, served, account, sources, { cluster, namespace });
    }

    this.manifest = cluster.addCdk8sChart(`${id}Models`, this.chart);
    // InferenceServices pass KServe's webhooks, so they wait for the controller; the rest of the
    // manifest (namespace, accounts, policies, the storage container) needs only the CRDs, and
    // without models it does not wait for the controller's pods.
    this.manifest.node.addDependency(...(models.length > 0 ? [this.install.controller] : []), this.install.runtimes,
      ...Object.values(this.identities).map(i => i.association));
  }

  /** The ServiceAccount the pods of `model` run as (its own, so its role is its own). */
  public modelServiceAccount(model: string): string {
    return `model-${model}`;
  }

  /**
   * One model's role: read what it serves (its storage URI and its canary's, each under a model
   * source) and put its own payload logs, nothing of another model's.
   */
  private modelIdentity(model: ServedModel, served: InferenceService, account: string, sources: ModelSource[],
    where: { cluster: eks.ICluster; namespace: string }): PodIdentityRole {
    const identity = new PodIdentityRole(this, `${model.name}Identity`, {
      cluster: where.cluster, namespace: where.namespace, serviceAccount: account,
      description: `KServe model ${model.name} in ${where.namespace}: reads its model, writes its payload logs`,
    });
    const storageUri = served instanceof MlflowInferenceService ? served.storageUri : model.storageUri!;
    const uris: [string, string][] = [['storageUri', storageUri], ...(model.canary ? [['canary.storageUri', model.canary.storageUri] as [string, string]] : [])];
    for (const [prop, uri] of uris) {
      const source = sources.find(src => `${uri.replace(/\/+$/, '')}/`.startsWith(`s3://${src.bucket.bucketName}/${src.prefix}/`));
      if (!source) {
        throw new InvalidPropError(`${this.node.path}/models/${model.name}`, prop, uri,
          'allowed: an s3:// URI under a model source (the stack\'s MLflow artifacts, kserve.modelSourceBuckets): its pods could read nothing else');
      }
      const key = uri.slice(`s3://${source.bucket.bucketName}/`.length).replace(/\/+$/, '');
      grantPrefixAccess(identity, { bucket: source.bucket, encryptionKey: source.encryptionKey, prefix: key, write: false },
        `The model's pods read the objects of its model directory; the wildcard is that directory`);
    }
    this.payloadLogs.grantWrite(identity, model.name);
    return identity;
  }

  private addModel(model: ServedModel, ctx: ModelContext): InferenceService {
    const where = `${this.node.path}/models/${model.name}`;
    if (model.driftCheck && !ctx.logging) {
      throw new InvalidPropError(where, 'driftCheck', model.driftCheck, 'drift checks read the payload logs: leave payloadLogging on');
    }
    if (model.driftCheck) reportPropsAt(where, () => resolveDriftCheck(where, model.driftCheck!), 'driftCheck.');
    // MlflowInferenceService calls the version `modelVersion`; a served model, `mlflowModelVersion`.
    return reportPropsAt(where, () => this.buildModel(model, ctx, where), p => p.replace(/^modelVersion\b/, 'mlflowModelVersion'));
  }

  /**
   * Where a model's pods land: a model that asks for GPUs and names no node selector of its own
   * goes to the platform's GPU pool (with the toleration of its taint); without a GPU pool it fails.
   */
  private placement(model: ServedModel, gpu: GpuScheduling | undefined, where: string): Pick<ServedModel, 'nodeSelector' | 'tolerations'> {
    if (!model.gpus || model.nodeSelector !== undefined) return {};
    if (!gpu) {
      throw new InvalidPropError(where, 'gpus', model.gpus,
        'a GPU model needs GPU nodes: set gpuNodePool on the stack (MlopsStackProps), or give nodeSelector and tolerations that reach GPU nodes of your own');
    }
    return { nodeSelector: { ...gpu.nodeSelector }, tolerations: [...(model.tolerations ?? []), ...gpu.tolerations] };
  }

  private buildModel(model: ServedModel, ctx: ModelContext, where: string): InferenceService {
    for (const prop of ['namespace', 'serviceAccountName', 'storageContainerName', 'logger', 'profile'] as const) {
      if (model[prop] !== undefined) {
        throw new InvalidPropError(where, prop, model[prop], 'the stack sets it for every model (see KServeOptions); leave it out');
      }
    }
    const common = {
      ...model,
      ...this.placement(model, ctx.gpuScheduling, where),
      namespace: ctx.namespace,
      serviceAccountName: ctx.serviceAccountName,
      storageContainerName: ctx.storage.name,
      profile: ctx.profile,
      clientNamespaces: model.clientNamespaces ?? ctx.clientNamespaces,
      logger: ctx.logging ? {
        mode: PayloadLogMode.ALL, url: this.payloadLogs.url, path: PAYLOAD_PATH, format: ctx.format,
        settingsServiceAccountName: LOGGER_SETTINGS_SERVICE_ACCOUNT,
      } : undefined,
    };
    if (model.mlflowModelVersion) {
      if (model.storageUri !== undefined || (model.modelFormat !== undefined && model.modelFormat !== ModelFormat.MLFLOW)) {
        throw new InvalidPropError(where, 'storageUri', model.storageUri, 'give either mlflowModelVersion or storageUri with modelFormat, not both');
      }
      if (!ctx.mlflow) {
        throw new InvalidPropError(where, 'mlflowModelVersion', model.mlflowModelVersion.name, 'needs KServeOnAwsProps.mlflow (the MLflow the version is registered in)');
      }
      return new MlflowInferenceService(this.chart, model.name, {
        ...common,
        modelVersion: model.mlflowModelVersion,
        artifactsDestination: ctx.mlflow.artifactsDestination,
        trackingUri: ctx.mlflow.trackingUri,
      });
    }
    if (!model.storageUri || !model.modelFormat) {
      throw new InvalidPropError(where, 'storageUri', model.storageUri, 'a model needs storageUri and modelFormat, or mlflowModelVersion');
    }
    if (!isUnresolved(model.storageUri) && !model.storageUri.startsWith('s3://')) {
      throw new InvalidPropError(where, 'storageUri', model.storageUri, 'allowed on AWS: an s3:// URI under one of the model sources');
    }
    return new InferenceService(this.chart, model.name, { ...common, modelFormat: model.modelFormat, storageUri: model.storageUri });
  }
}

/** A model source named by bucket name (and key ARN), as the stack's props give it. */
function importedSource(scope: Construct, i: number, o: ModelSourceOptions): ModelSource {
  const where = `modelSourceBuckets[${i}]`;
  if (!isUnresolved(o.bucketName) && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucketName)) {
    throw new InvalidPropError(scope, `${where}.bucketName`, o.bucketName, 'allowed: an S3 bucket name (3-63 lowercase letters, digits, "." and "-")');
  }
  if (!isUnresolved(o.prefix) && !/^[^/\s*]+(\/[^/\s*]+)*$/.test(o.prefix)) {
    throw new InvalidPropError(scope, `${where}.prefix`, o.prefix, 'allowed: a key prefix without leading or trailing "/" or wildcards, e.g. models');
  }
  return {
    bucket: s3.Bucket.fromBucketName(scope, `ModelSource${i}`, o.bucketName),
    encryptionKey: o.keyArn ? kms.Key.fromKeyArn(scope, `ModelSourceKey${i}`, o.keyArn) : undefined,
    prefix: o.prefix,
  };
}
