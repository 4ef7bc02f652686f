import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { restrictedPodSecurityContext } from './workload';

/**
 * The Kubernetes objects every server of the library shares (Service, NetworkPolicy, disruption
 * budget, pod spec), so their shape and hardening are decided once.
 */

/** Names and labels of one server's objects. */
export interface ServerIdentity {
  /** Name of the objects (and of the ServiceAccount the pods run as). */
  readonly name: string;
  /** Labels of the objects (`standardLabels`). */
  readonly labels: Record<string, string>;
  /** Labels that select the server's pods (`selectorLabels`). */
  readonly selector: Record<string, string>;
}

/** A ClusterIP Service for one named container port. */
export function clusterIpService(scope: Construct, server: ServerIdentity, portName: string, port: number): k8s.KubeService {
  return new k8s.KubeService(scope, 'Service', {
    metadata: { name: server.name, labels: server.labels },
    spec: {
      type: 'ClusterIP',
      selector: server.selector,
      ports: [{ name: portName, port, targetPort: k8s.IntOrString.fromString(portName), protocol: 'TCP' }],
    },
  });
}

/** The server's ingress policy: only `peers` may connect, and only on `port`. */
export function serverNetworkPolicy(scope: Construct, server: ServerIdentity, port: number, peers: k8s.NetworkPolicyPeer[]): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name: server.name, labels: server.labels },
    spec: {
      podSelector: { matchLabels: server.selector },
      policyTypes: ['Ingress'],
      ingress: [{ from: peers, ports: [{ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }] }],
    },
  });
}

/** At most one pod of the server down at a time during voluntary disruptions (node drains, upgrades). */
export function disruptionBudget(scope: Construct, server: ServerIdentity): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'Disruption', {
    metadata: { name: server.name, labels: server.labels },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: server.selector } },
  });
}

/** A ServiceAccount whose token is never mounted (no pod of the library calls the API server). */
export function serviceAccount(scope: Construct, id: string, name: string, labels: Record<string, string>,
  annotations?: { [key: string]: string }, namespace?: string): k8s.KubeServiceAccount {
  return new k8s.KubeServiceAccount(scope, id, { metadata: { name, namespace, labels, annotations }, automountServiceAccountToken: false });
}

/**
 * A pod spec that meets Pod Security "restricted" and mounts no ServiceAccount token, unless
 * `spec` says otherwise (pods that call the Kubernetes API).
 */
export function restrictedPodSpec(serviceAccountName: string, spec: Omit<k8s.PodSpec, 'serviceAccountName' | 'securityContext'>,
  runAsId?: number): k8s.PodSpec {
  return {
    serviceAccountName,
    automountServiceAccountToken: false,
    securityContext: restrictedPodSecurityContext(runAsId),
    ...spec,
  };
}
