import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { assertDnsLabel, InvalidPropError } from './errors';

/** The label the API server sets on every namespace; nobody can set it to another namespace's name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * NetworkPolicy peers admitting pods that carry `podLabels` in exactly the given namespaces.
 *
 * A pod label alone admits nothing by itself: any pod can label itself. Paired with the namespace
 * name (which only the API server sets), only pods in namespaces we name, whose owners we trust to
 * label, get in.
 */
export function clientPeers(scope: Construct, prop: string, namespaces: string[],
  podLabels: Record<string, string>): k8s.NetworkPolicyPeer[] {
  namespaces.forEach(ns => assertDnsLabel(scope, prop, ns));
  return [...new Set(namespaces)].sort().map(ns => ({
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } },
    podSelector: { matchLabels: podLabels },
  }));
}

/** An IPv4 CIDR block as [first address, last address] (unsigned 32-bit integers). */
function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const base = ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const first = base - (base % size);
  return [first, first + size - 1];
}

const CIDR = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/;

/** Throws unless `cidr` is an IPv4 CIDR block. */
export function assertCidr(scope: Construct, prop: string, cidr: string): void {
  if (!CIDR.test(cidr)) throw new InvalidPropError(scope, prop, cidr, 'allowed: an IPv4 CIDR block such as 10.0.0.0/24');
}

/** Whether two IPv4 CIDR blocks share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}
