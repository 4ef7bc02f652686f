import { k8s } from 'cdk8s-plus-27';

/**
 * Pod and container settings every workload of the library shares, so hardening and probes are
 * fixed in one place. They meet the Pod Security Standard "restricted" that our namespaces enforce.
 */

/** UID/GID the library's containers run as when the image does not set a non-root user. */
export const NON_ROOT_ID = 10001;

/** Pod-level security context: non-root, RuntimeDefault seccomp, volumes group-owned by the pod. */
export function restrictedPodSecurityContext(id: number = NON_ROOT_ID): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    fsGroup: id,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context: read-only root, no privilege escalation, no capabilities. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Startup, readiness and liveness probes on one HTTP path of a named container port. */
export function httpProbes(path: string, port: string, startupSeconds: number): {
  startupProbe: k8s.Probe; readinessProbe: k8s.Probe; livenessProbe: k8s.Probe;
} {
  const get = { path, port: k8s.IntOrString.fromString(port) };
  return {
    // Generous start-up window; liveness only counts once the server has started.
    startupProbe: { httpGet: get, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: Math.ceil(startupSeconds / 5) },
    readinessProbe: { httpGet: get, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    livenessProbe: { httpGet: get, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

/** Spread replicas over zones (hard) and nodes (soft). */
export function zoneSpread(selector: Record<string, string>): k8s.TopologySpreadConstraint[] {
  return [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: selector } },
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
  ];
}

/**
 * Requests and memory limit of a container (no CPU limit: throttling hurts latency more than sharing).
 * The memory request is what the container measurably holds; `memoryLimit`, when higher, is room
 * for peaks that do not need to be reserved on the node.
 */
export function resources(cpu: string, memory: string, memoryLimit: string = memory): k8s.ResourceRequirements {
  const plain = resourceValues(cpu, memory, memoryLimit);
  return {
    requests: { cpu: k8s.Quantity.fromString(plain.requests.cpu), memory: k8s.Quantity.fromString(plain.requests.memory) },
    limits: { memory: k8s.Quantity.fromString(plain.limits.memory) },
  };
}

/** The same policy as `resources`, as plain values (for Helm charts' `resources` keys). */
export function resourceValues(cpu: string, memory: string, memoryLimit: string = memory): {
  requests: { cpu: string; memory: string }; limits: { memory: string };
} {
  return { requests: { cpu, memory }, limits: { memory: memoryLimit } };
}

/** A rolling update that keeps full capacity: a new pod must be ready before an old one goes. */
export function rollWithoutDowntime(): k8s.DeploymentStrategy {
  return { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) } };
}
