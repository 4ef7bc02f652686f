import { IConstruct } from 'constructs';
import { InvalidPropError } from '../../constructs/core/errors';
import { ModelToleration } from '../../constructs/kserve/inference-service';

/** How the GPU node pool buys its instances. */
export enum GpuCapacityType {
  /** On-demand instances: not reclaimed while a model is served from them. */
  ON_DEMAND = 'on-demand',
  /** Spot instances: far cheaper, but AWS may reclaim one with two minutes' notice. */
  SPOT = 'spot',
}

/** A node pool of NVIDIA GPU instances for the models that ask for GPUs. */
export interface GpuNodePoolOptions {
  /**
   * The EC2 instance families the pool may launch (each an NVIDIA GPU family EKS Auto Mode runs,
   * e.g. `['g6', 'g5']`); Auto Mode picks the size that fits the pending pods.
   */
  readonly instanceFamilies: string[];
  /**
   * How the instances are bought.
   * @default GpuCapacityType.ON_DEMAND
   */
  readonly capacityType?: GpuCapacityType;
  /**
   * The most GPUs the pool's nodes may hold together: the cap on what the pool can cost. A pod
   * that would take the pool past it stays Pending.
   * @default 4
   */
  readonly maxGpus?: number;
}

/** Name of the GPU NodePool (its nodes carry the label `karpenter.sh/nodepool` with this value). */
export const GPU_NODE_POOL_NAME = 'mlops-gpu';
/** The taint of the GPU nodes: only pods that tolerate it (GPU models) land there. */
export const GPU_TAINT = 'nvidia.com/gpu';

/** The NVIDIA GPU families (x86) EKS Auto Mode runs, as of this release. */
export const NVIDIA_GPU_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e', 'gr6', 'p4d', 'p4de', 'p5', 'p5e', 'p5en'];

/** What a pod needs to land on the GPU pool: the pool's node selector and the toleration of its taint. */
export interface GpuScheduling {
  readonly nodeSelector: { [key: string]: string };
  readonly tolerations: ModelToleration[];
}

/** How a GPU pod reaches the stack's GPU pool. */
export const GPU_SCHEDULING: GpuScheduling = {
  nodeSelector: { 'karpenter.sh/nodepool': GPU_NODE_POOL_NAME },
  tolerations: [{ key: GPU_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
};

/**
 * The GPU NodePool: on the stack's NodeClass (so NetworkPolicy is enforced there too), tainted so
 * nothing but GPU pods lands on it, capped at `maxGpus`, and emptied as soon as no GPU pod runs.
 */
export function gpuNodePool(scope: IConstruct, options: GpuNodePoolOptions, nodeClassName: string, labels: { [key: string]: string }): object {
  const families = options.instanceFamilies;
  const unknown = families.filter(f => !NVIDIA_GPU_FAMILIES.includes(f));
  if (families.length === 0 || unknown.length > 0) {
    throw new InvalidPropError(scope, 'gpuNodePool.instanceFamilies', families,
      `allowed: one or more of ${NVIDIA_GPU_FAMILIES.join(', ')} (NVIDIA GPU families, x86)`);
  }
  const maxGpus = options.maxGpus ?? 4;
  if (!Number.isInteger(maxGpus) || maxGpus < 1) {
    throw new InvalidPropError(scope, 'gpuNodePool.maxGpus', maxGpus, 'allowed: a whole number of GPUs, 1 or more');
  }
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: GPU_NODE_POOL_NAME, labels },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: nodeClassName },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [options.capacityType ?? GpuCapacityType.ON_DEMAND] },
            { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: [...families] },
            { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
          ],
          taints: [{ key: GPU_TAINT, effect: 'NoSchedule' }],
          expireAfter: '336h',
          terminationGracePeriod: '24h0m0s',
        },
      },
      limits: { [GPU_TAINT]: String(maxGpus) },
      // GPU hours are the stack's most expensive: a node with no GPU pod goes after five minutes
      // (time for a rollout's new pod to take the old one's place).
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] },
    },
  };
}
