import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { gpuNodePool, GpuNodePoolOptions } from './gpu-node-pool';
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
  new ApiObject(chart, 'NodePool', {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: NODE_POOL_NAME, labels },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: NODE_POOL_NAME },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
            { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: ['4'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
          ],
          // Auto Mode's own defaults, stated so a change upstream cannot alter node lifetimes silently.
          expireAfter: '336h',
          terminationGracePeriod: '24h0m0s',
        },
      },
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '10%' }] },
    },
  });
  if (props.gpu) new ApiObject(chart, 'GpuNodePool', gpuNodePool(props.scope, props.gpu, NODE_POOL_NAME, labels) as any);
  return chart;
}
