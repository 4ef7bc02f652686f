import { PodRequest } from './pods';
import { EC2, InstancePrice } from './prices';

/** The instance types a NodePool's requirements admit, of those the price table lists. */
export function admittedTypes(nodePool: any): string[] {
  const requirements: { key: string; operator: string; values: string[] }[] = nodePool.spec.template.spec.requirements;
  const facts = (type: string): Record<string, string> => {
    const [family, size] = type.split('.');
    const generation = /^[a-z]+(\d)/.exec(family)![1];
    const graviton = /^[a-z]+\dg/.test(family);
    return {
      'karpenter.sh/capacity-type': 'on-demand',
      'eks.amazonaws.com/instance-category': family[0],
      'eks.amazonaws.com/instance-generation': generation,
      'eks.amazonaws.com/instance-family': family,
      'eks.amazonaws.com/instance-size': size,
      'node.kubernetes.io/instance-type': type,
      'kubernetes.io/arch': graviton ? 'arm64' : 'amd64',
      'eks.amazonaws.com/instance-gpu-manufacturer': /^(g|gr|p)\d/.test(family) ? 'nvidia' : 'none',
    };
  };
  return Object.keys(EC2).filter(type => requirements.every(r => {
    const value = facts(type)[r.key];
    if (value === undefined) throw new Error(`NodePool ${nodePool.metadata.name}: the cost model does not know requirement ${r.key}`);
    switch (r.operator) {
      case 'In': return r.values.includes(value);
      case 'NotIn': return !r.values.includes(value);
      case 'Gt': return Number(value) > Number(r.values[0]);
      case 'Lt': return Number(value) < Number(r.values[0]);
      default: throw new Error(`NodePool ${nodePool.metadata.name}: the cost model does not know operator ${r.operator}`);
    }
  }));
}

/**
 * What pods may request on a node of `type`: its capacity less what the kubelet reserves (the EKS
 * and Bottlerocket formula: CPU 6 % of the first core, 1 % of the second, 0.5 % of the next two,
 * 0.25 % of the rest; memory 255 MiB plus 11 MiB per pod the node may hold) and the 100 MiB
 * memory eviction threshold.
 */
export function allocatable(type: InstancePrice, maxPods: number): { cpu: number; memoryGiB: number } {
  const cores = type.vcpu;
  const reservedCpu = 0.06 * Math.min(cores, 1) + 0.01 * Math.min(Math.max(cores - 1, 0), 1)
    + 0.005 * Math.min(Math.max(cores - 2, 0), 2) + 0.0025 * Math.max(cores - 4, 0);
  const reservedMiB = 255 + 11 * maxPods + 100;
  return { cpu: cores - reservedCpu, memoryGiB: type.memoryGiB - reservedMiB / 1024 };
}

/** Pods placed on nodes of one type, first fit by decreasing size; undefined when a pod fits none. */
export function pack(pods: PodRequest[], type: InstancePrice, maxPods: number): number | undefined {
  const room = allocatable(type, maxPods);
  const size = (p: PodRequest) => Math.max(p.cpu / room.cpu, p.memoryGiB / room.memoryGiB);
  const nodes: { cpu: number; memoryGiB: number; pods: number }[] = [];
  for (const pod of [...pods].sort((a, b) => size(b) - size(a))) {
    if (pod.cpu > room.cpu || pod.memoryGiB > room.memoryGiB) return undefined;
    let node = nodes.find(n => n.cpu + pod.cpu <= room.cpu && n.memoryGiB + pod.memoryGiB <= room.memoryGiB && n.pods < maxPods);
    if (!node) nodes.push(node = { cpu: 0, memoryGiB: 0, pods: 0 });
    node.cpu += pod.cpu;
    node.memoryGiB += pod.memoryGiB;
    node.pods += 1;
  }
  return Math.max(nodes.length, 1);
}
