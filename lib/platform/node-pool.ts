import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ApiObject, ApiObjectProps, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { InvalidPropError } from '../../constructs/core/errors';
import { GPU_NODE_POOL_NAME, GPU_TAINT, GpuCapacityType, GpuNodePoolOptions, NVIDIA_GPU_FAMILIES } from './gpu-node-pool';
import { standardLabels } from '../../constructs/core/labels';

/**
 * The subnets the stack's nodes, and so its pods (EKS Auto Mode gives pods VPC addresses), take
 * their addresses from. Whatever must tell pod traffic apart by address reads them here.
 */
export const POD_SUBNETS: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

/** Name of the NodeClass and NodePool the stack's pods run on. */
export const NODE_POOL_NAME = 'mlops';

/** What the node objects need from the AWS side (all may be CDK tokens). */
export interface AutoModeNodesProps {
  /** Name of the IAM role of the Auto Mode nodes (the one the cluster's access entry admits). */
  readonly nodeRoleName: string;
  /** Subnets the nodes, and so the pods, get their addresses from. */
  readonly subnetIds: string[];
  /** Security group of the nodes (the cluster security group, as for the built-in pools). */
  readonly securityGroupId: string;
  /** Size of each node's volume, GiB (the profile's `nodeVolumeGiB`). */
  readonly volumeGiB: number;
  /** A pool of NVIDIA GPU nodes beside the general one, when models ask for GPUs. */
  readonly gpu?: GpuNodePoolOptions;
  /** Construct that bad GPU pool options are reported against. */
  readonly scope: IConstruct;
}

/**
 * Turns NetworkPolicy enforcement on in EKS Auto Mode and gives the workloads nodes that enforce it.
 *
 * Auto Mode accepts NetworkPolicy objects but enforces them only when the `amazon-vpc-cni`
 * ConfigMap enables the network-policy controller (EKS user guide, "Use network policies with
 * EKS Auto Mode"), and on nodes whose NodeClass sets `networkPolicy`. The built-in pools cannot be
 * changed, so the stack keeps only the built-in `system` pool (tainted for cluster add-ons) and
 * runs everything else on this pool, whose requirements match the built-in `general-purpose` pool.
 * `DefaultAllow` leaves pods that no policy selects reachable (cluster add-ons); every namespace
 * of the stack has its own default-deny policy instead.
 */
export function autoModeNodesChart(props: AutoModeNodesProps): Chart {
  const chart = new Chart(new App(), 'AutoModeNodes');
  const labels = standardLabels('nodes', NODE_POOL_NAME);
  new ApiObject(chart, 'NetworkPolicyController', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system', labels },
    data: { 'enable-network-policy-controller': 'true' },
  });
  new ApiObject(chart, 'NodeClass', {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'NodeClass',
    metadata: { name: NODE_POOL_NAME, labels },
    spec: {
      role: props.nodeRoleName,
      subnetSelectorTerms: props.subnetIds.map(id => ({ id })),
      securityGroupSelectorTerms: [{ id: props.securityGroupId }],
      networkPolicy: 'DefaultAllow',
      networkPolicyEventLogs: 'Disabled',
      ephemeralStorage: { size: `${props.volumeGiB}Gi` },
    },
  });
  // The built-in general-purpose pool's requirements (EKS user guide, "Auto Mode built-in node pools").
  new ApiObject(chart, 'NodePool', nodePool({
    name: NODE_POOL_NAME,
    requirements: [
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
      { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: ['4'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ],
    consolidateAfter: '30s',
  }, labels));
  if (props.gpu) new ApiObject(chart, 'GpuNodePool', nodePool(gpuNodePoolShape(props.scope, props.gpu), labels));
  return chart;
}

/** A NodePool on the stack's NodeClass, so NetworkPolicy is enforced on every node it launches. */
function nodePool(shape: NodePoolShape, labels: { [key: string]: string }): ApiObjectProps {
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: shape.name, labels },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: NODE_POOL_NAME },
          requirements: shape.requirements,
          ...(shape.taints ? { taints: shape.taints } : {}),
          // Auto Mode's own defaults, stated so a change upstream cannot alter node lifetimes silently.
          expireAfter: '336h',
          terminationGracePeriod: '24h0m0s',
        },
      },
      ...(shape.limits ? { limits: shape.limits } : {}),
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: shape.consolidateAfter, budgets: [{ nodes: '10%' }] },
    },
  };
}

/** What sets one NodePool apart; `nodePool` makes the object. */
interface NodePoolShape {
  readonly name: string;
  readonly requirements: { key: string; operator: string; values: string[] }[];
  readonly taints?: { key: string; effect: string }[];
  readonly limits?: { [resource: string]: string };
  /** How long a node may stay empty or underused before Auto Mode removes or replaces it. */
  readonly consolidateAfter: string;
}

/**
 * The GPU NodePool: tainted so nothing but GPU pods lands on it, capped at `maxGpus`, and emptied
 * soon after no GPU pod runs. Bad options fail at synth against `scope`.
 */
function gpuNodePoolShape(scope: IConstruct, options: GpuNodePoolOptions): NodePoolShape {
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
    name: GPU_NODE_POOL_NAME,
    requirements: [
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: [options.capacityType ?? GpuCapacityType.ON_DEMAND] },
      { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: [...families] },
      { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ],
    taints: [{ key: GPU_TAINT, effect: 'NoSchedule' }],
    limits: { [GPU_TAINT]: String(maxGpus) },
    // GPU hours are the stack's most expensive: a node with no GPU pod goes after five minutes
    // (time for a rollout's new pod to take the old one's place).
    consolidateAfter: '5m',
  };
}
