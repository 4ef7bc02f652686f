import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { assertDnsLabel } from './errors';

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
