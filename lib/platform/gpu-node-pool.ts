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
