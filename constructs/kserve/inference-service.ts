import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertDnsLabel, InvalidPropError, isUnresolved } from '../core/errors';
import { standardLabels } from '../core/labels';
import { clientPeers } from '../core/network';
import { resolveProfile, StackProfile } from '../core/profile';
import { MODEL_DEFAULTS, ModelSizing } from './defaults';
import { assertLimitCoversRequest, parseQuantity } from '../core/quantity';
import { loggerSpec, PayloadLoggerProps } from './payload-logger';
import { InferenceProtocol, ModelFormat, RUNTIME_OF_FORMAT } from './runtimes';

/** The metric KServe's HorizontalPodAutoscaler scales a model on (Standard mode). */
export enum ScaleMetric {
  /** Average CPU utilization, percent of the request. */
  CPU = 'cpu',
  /** Average memory utilization, percent of the request. */
  MEMORY = 'memory',
}

/** A toleration of the model pods (GPU nodes are usually tainted). */
export interface ModelToleration {
  /** Taint key, e.g. `nvidia.com/gpu`. */
  readonly key: string;
  /**
   * `Exists` or `Equal`.
   * @default 'Exists'
   */
  readonly operator?: string;
  /**
   * Taint value (with `Equal`).
   * @default - none
   */
  readonly value?: string;
  /**
   * Taint effect.
   * @default - all effects
   */
  readonly effect?: string;
}

/**
 * A second version of the model beside the stable one (KServe v0.20 `spec.canary`).
 *
 * In Standard mode, the only mode the stack installs, KServe splits no traffic (measured with its
 * real controller in test_kserve_controller.py): the canary gets its own Deployment, its own
 * Service `<inference service>-<name>-predictor` that selects only the canary's pods, and an HPA of
 * one replica. The model's own Service and URL keep selecting only the stable pods, so the canary
 * answers only the clients that call `InferenceService.canaryUrl`; `trafficPercent` is recorded on
 * the object for a serverless install and has no effect here.
 */
export interface ModelCanary {
  /** Name of the canary; its Deployment and Service are `<inference service>-<name>-predictor`. */
  readonly name: string;
  /** Where the canary's model is (same format and runtime as the stable one). */
  readonly storageUri: string;
  /**
   * Percent of requests the canary would receive where KServe splits traffic (Knative); Standard
   * mode ignores it (see above). 0 to 100.
   */
  readonly trafficPercent: number;
}

/** What every InferenceService of the library takes, whatever the model's origin. */
export interface InferenceServiceOptions {
  /** Name of the InferenceService (and of the model in its endpoints). */
  readonly name: string;
  /**
   * Namespace of the InferenceService.
   * @default 'models'
   */
  readonly namespace?: string;
  /**
   * ServiceAccount the model pods run as: the one whose cloud role may read the model (EKS Pod
   * Identity on AWS) and write the payload logs.
   * @default - the namespace's `default` ServiceAccount
   */
  readonly serviceAccountName?: string;
  /**
   * ClusterStorageContainer that downloads the model (`S3StorageContainer.name` for `s3://` models
   * with EKS Pod Identity: it carries the region).
   * @default - the one KServe matches to the URI scheme
   */
  readonly storageContainerName?: string;
  /**
   * Inference protocol.
   * @default - the runtime's first protocol (v1 where the runtime has it, else v2)
   */
  readonly protocolVersion?: InferenceProtocol;
  /**
   * Fewest model pods.
   * @default - 1 in DEVELOPMENT, 2 in PRODUCTION
   */
  readonly minReplicas?: number;
  /**
   * Most model pods; above `minReplicas` KServe creates a HorizontalPodAutoscaler (needs metrics-server).
   * @default - `minReplicas` in DEVELOPMENT, 4 in PRODUCTION
   */
  readonly maxReplicas?: number;
  /**
   * Metric the autoscaler scales on.
   * @default ScaleMetric.CPU
   */
  readonly scaleMetric?: ScaleMetric;
  /**
   * Target utilization of `scaleMetric`, percent of the request (1-100).
   * @default 75
   */
  readonly scaleTarget?: number;
  /**
   * CPU request of the model server.
   * @default - '100m' in DEVELOPMENT, '1' in PRODUCTION
   */
  readonly cpu?: string;
  /**
   * CPU limit of the model server. KServe merges the runtime's own `limits.cpu` (1 in every runtime
   * the stack enables) under the model's resources, so the model server always has a CPU limit; this
   * sets it.
   * @default - the larger of `cpu` and 1 CPU (the runtime's limit)
   */
  readonly cpuLimit?: string;
  /**
   * Memory request of the model server.
   * @default - '256Mi' in DEVELOPMENT, '2Gi' in PRODUCTION
   */
  readonly memory?: string;
  /**
   * Memory limit of the model server.
   * @default - '512Mi' in DEVELOPMENT, `memory` in PRODUCTION
   */
  readonly memoryLimit?: string;
  /**
   * NVIDIA GPUs per model pod; needs `nodeSelector` and `tolerations` that reach GPU nodes.
   * @default 0
   */
  readonly gpus?: number;
  /**
   * Node labels the model pods must land on.
   * @default - none
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Tolerations of the model pods.
   * @default - none
   */
  readonly tolerations?: ModelToleration[];
  /**
   * Writes every prediction to S3.
   * @default - no payload logging
   */
  readonly logger?: PayloadLoggerProps;
  /**
   * Namespaces whose pods labelled `models.cdk-mlops-stack.io/client: "true"` may call the model.
   * @default - the model's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Extra annotations of the InferenceService (KServe copies them to the model pods).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * Sizing defaults.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
}

/** Properties of `InferenceService`. */
export interface InferenceServiceProps extends InferenceServiceOptions {
  /** Format of the model; picks the serving runtime. */
  readonly modelFormat: ModelFormat;
  /** Where the model is: `s3://`, `gs://`, `pvc://`, `https://` or `hf://`. */
  readonly storageUri: string;
  /**
   * A canary version taking a share of the traffic.
   * @default - none
   */
  readonly canary?: ModelCanary;
}

/** Label that lets a pod of a client namespace call the models. */
export const MODEL_CLIENT_LABEL = 'models.cdk-mlops-stack.io/client';
/** CPU limit (in CPUs) of every runtime the stack enables (`limits.cpu` of the runtime chart's ClusterServingRuntimes). */
const RUNTIME_CPU_LIMIT = 1;
/** Port of the model server in every runtime the stack enables. */
export const MODEL_PORT = 8080;
/** Port of KServe's agent, which fronts the model server whenever a logger is set. */
export const AGENT_PORT = 9081;

const STORAGE_URI = /^(s3|gs):\/\/[^/\s]+(\/\S*)?$|^pvc:\/\/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\/\S*)?$|^https:\/\/\S+$|^hf:\/\/[^/\s]+\/\S+$/;

/** Throws unless `uri` is a storage URI KServe's storage initializer downloads from. */
export function assertStorageUri(scope: Construct, prop: string, uri: string): void {
  if (isUnresolved(uri)) return;
  if (!STORAGE_URI.test(uri ?? '')) {
    throw new InvalidPropError(scope, prop, uri,
      'allowed: s3://<bucket>/<key>, gs://<bucket>/<key>, pvc://<claim>/<path>, https://<url> or hf://<owner>/<model>');
  }
}

/**
 * A KServe v0.20 InferenceService in Standard mode (plain Deployment, Service and, when it may
 * scale, HorizontalPodAutoscaler; no Knative), with the runtime named explicitly, pods at Pod
 * Security "restricted" and a NetworkPolicy that admits only the model's clients.
 *
 * KServe adds the storage initializer (and, with a logger, its agent) to the pod; the pod-level
 * security context set here is what makes those containers "restricted" too.
 */
export class InferenceService extends Construct {
  /** The InferenceService object. */
  public readonly resource: ApiObject;
  /** In-cluster base URL of the model's predictor (Standard mode: `<name>-predictor`). */
  public readonly url: string;
  /** The protocol its endpoints speak. */
  public readonly protocolVersion: InferenceProtocol;
  /** Replicas and resources of the predictor's model container, defaults resolved. */
  public readonly sizing: ModelSizing;
  /**
   * In-cluster base URL of the canary's own Service (Standard mode sends it no share of `url`'s traffic).
   * @default - undefined without a canary
   */
  public readonly canaryUrl?: string;

  constructor(scope: Construct, id: string, props: InferenceServiceProps) {
    super(scope, id);
    const namespace = props.namespace ?? 'models';
    assertDnsLabel(this, 'name', props.name);
    assertDnsLabel(this, 'namespace', namespace);
    const format = props.modelFormat;
    const runtime = RUNTIME_OF_FORMAT[format];
    if (!runtime) {
      throw new InvalidPropError(this, 'modelFormat', format, `allowed: one of ${Object.values(ModelFormat).join(', ')}`);
    }
    assertStorageUri(this, 'storageUri', props.storageUri);
    this.protocolVersion = props.protocolVersion ?? runtime.protocols[0];
    if (!runtime.protocols.includes(this.protocolVersion)) {
      throw new InvalidPropError(this, 'protocolVersion', this.protocolVersion,
        `allowed for ${format} (runtime ${runtime.name}): ${runtime.protocols.join(', ')}`);
    }

    const defaults = MODEL_DEFAULTS[resolveProfile(props.profile)];
    const minReplicas = props.minReplicas ?? defaults.minReplicas;
    const maxReplicas = props.maxReplicas ?? Math.max(defaults.maxReplicas, minReplicas);
    if (!Number.isInteger(minReplicas) || minReplicas < 1) {
      throw new InvalidPropError(this, 'minReplicas', minReplicas, 'allowed: a whole number, at least 1 (Standard mode does not scale to zero)');
    }
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
      throw new InvalidPropError(this, 'maxReplicas', maxReplicas, `allowed: a whole number, at least minReplicas (${minReplicas})`);
    }
    const scaleTarget = props.scaleTarget ?? 75;
    if (!Number.isInteger(scaleTarget) || scaleTarget < 1 || scaleTarget > 100) {
      throw new InvalidPropError(this, 'scaleTarget', scaleTarget, 'allowed: a whole percent from 1 to 100');
    }

    const gpus = props.gpus ?? 0;
    if (!Number.isInteger(gpus) || gpus < 0) {
      throw new InvalidPropError(this, 'gpus', gpus, 'allowed: a whole number, 0 or more');
    }
    if (gpus > 0 && (!props.nodeSelector || Object.keys(props.nodeSelector).length === 0 || !props.tolerations?.length)) {
      throw new InvalidPropError(this, 'gpus', gpus,
        'a GPU model needs a nodeSelector that picks GPU nodes and the tolerations of their taints (e.g. nvidia.com/gpu)');
    }
    const cpu = props.cpu ?? defaults.cpu;
    // The sklearn runtime holds about 220 MiB with a small model (contract test).
    const memory = props.memory ?? defaults.memory;
    const memoryLimit = props.memoryLimit ?? props.memory ?? defaults.memoryLimit;
    const cpuLimit = props.cpuLimit ?? ((parseQuantity(this, 'cpu', cpu) ?? 0) > RUNTIME_CPU_LIMIT ? cpu : String(RUNTIME_CPU_LIMIT));
    assertLimitCoversRequest(this, 'cpu', cpu, 'cpuLimit', cpuLimit);
    assertLimitCoversRequest(this, 'memory', memory, 'memoryLimit', memoryLimit);
    this.sizing = { minReplicas, maxReplicas, cpu, cpuLimit, memory, memoryLimit };
    const gpuQuantity = gpus > 0 ? { 'nvidia.com/gpu': String(gpus) } : {};

    const clients = clientPeers(this, 'clientNamespaces', props.clientNamespaces ?? [namespace], { [MODEL_CLIENT_LABEL]: 'true' });
    const annotations = props.annotations ?? {};
    const lineageKeys = Object.keys(annotations).filter(k => k.startsWith(LINEAGE_PREFIX)).sort();
    // KServe's webhook refuses a `name` on the main predictor's model; the canary's schema requires one.
    const model = (storageUri: string, name?: string) => ({
      ...(name ? { name } : {}),
      modelFormat: { name: format },
      runtime: runtime.name,
      protocolVersion: this.protocolVersion,
      storageUri,
      resources: {
        requests: { cpu, memory, ...gpuQuantity },
        limits: { cpu: cpuLimit, memory: memoryLimit, ...gpuQuantity },
      },
    });
    const podSettings = {
      ...(props.serviceAccountName ? { serviceAccountName: props.serviceAccountName } : {}),
      // The model server calls no Kubernetes API; EKS Pod Identity's token is a separate volume.
      automountServiceAccountToken: false,
      ...(props.storageContainerName ? { storageContainerName: props.storageContainerName } : {}),
      // Applies to every container KServe puts in the pod (storage initializer, agent, model server):
      // the runtimes' and the storage container's own contexts set no seccomp profile.
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      ...(props.nodeSelector ? { nodeSelector: props.nodeSelector } : {}),
      ...(props.tolerations?.length ? {
        tolerations: props.tolerations.map(t => ({ key: t.key, operator: t.operator ?? 'Exists', value: t.value, effect: t.effect })),
      } : {}),
    };

    const canary = props.canary;
    if (canary) {
      assertDnsLabel(this, 'canary.name', canary.name);
      assertStorageUri(this, 'canary.storageUri', canary.storageUri);
      if (!Number.isInteger(canary.trafficPercent) || canary.trafficPercent < 0 || canary.trafficPercent > 100) {
        throw new InvalidPropError(this, 'canary.trafficPercent', canary.trafficPercent, 'allowed: a whole percent from 0 to 100');
      }
    }

    const labels = standardLabels('kserve', props.name);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: {
        name: props.name,
        namespace,
        labels,
        annotations: {
          ...annotations,
          // Per object, so the model keeps working if the cluster's default mode changes.
          'serving.kserve.io/deploymentMode': 'Standard',
          // No HorizontalPodAutoscaler when the replica count is fixed: it would only wait for metrics.
          'serving.kserve.io/autoscalerClass': maxReplicas > minReplicas ? 'hpa' : 'none',
        },
      },
      spec: {
        predictor: {
          ...podSettings,
          minReplicas,
          maxReplicas,
          ...(maxReplicas > minReplicas ? { scaleMetric: props.scaleMetric ?? ScaleMetric.CPU, scaleTarget } : {}),
          model: model(props.storageUri),
          ...(props.logger ? { logger: loggerSpec(this, props.logger, lineageKeys) } : {}),
        },
        ...(canary ? {
          canary: [{
            trafficPercent: canary.trafficPercent,
            predictor: { name: canary.name, ...podSettings, model: model(canary.storageUri, 'kserve-container') },
          }],
        } : {}),
      },
    });
    guardAgainstClashes(this.resource);

    // With a logger the component Service targets the agent (9081), which logs and forwards to the
    // model server in the same pod; admitting the model server's port too would let a client's
    // prediction escape the payload logs and the drift checks. A canary inherits the logger (KServe
    // builds its predictor from the stable one), so its pods have the agent as well.
    const ports = props.logger ? [AGENT_PORT] : [MODEL_PORT];
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: `${props.name}-clients`, namespace, labels },
      spec: {
        podSelector: { matchLabels: { 'serving.kserve.io/inferenceservice': props.name } },
        policyTypes: ['Ingress'],
        ingress: [{ from: clients, ports: ports.map(port => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })) }],
      },
    });
    this.url = `http://${props.name}-predictor.${namespace}.svc.cluster.local`;
    this.canaryUrl = canary ? `http://${props.name}-${canary.name}-predictor.${namespace}.svc.cluster.local` : undefined;
  }
}

/** Prefix of the lineage annotations the library writes (and asks the payload logger to copy into every record). */
export const LINEAGE_PREFIX = 'models.cdk-mlops-stack.io/';
