/**
 * The Pod Security Standard "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards),
 * checked on a pod spec the way the admission controller checks it. Returns the violations.
 */
const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

export function restrictedViolations(pod: any): string[] {
  const found: string[] = [];
  const podCtx = pod.securityContext ?? {};
  for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[flag]) found.push(`${flag} is true`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find(k => k !== 'name');
    if (!type || !ALLOWED_VOLUMES.includes(type)) found.push(`volume ${volume.name} is of type ${type}`);
  }
  if (podCtx.runAsUser === 0) found.push('pod runAsUser is 0');
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  if (containers.length === 0) found.push('no containers');
  for (const c of containers) {
    const ctx = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (ctx.privileged) found.push(`${where}: privileged`);
    if (ctx.allowPrivilegeEscalation !== false) found.push(`${where}: allowPrivilegeEscalation is not false`);
    if (!(ctx.capabilities?.drop ?? []).includes('ALL')) found.push(`${where}: capabilities do not drop ALL`);
    for (const cap of ctx.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') found.push(`${where}: adds capability ${cap}`);
    if ((ctx.runAsNonRoot ?? podCtx.runAsNonRoot) !== true) found.push(`${where}: runAsNonRoot is not true`);
    if (ctx.runAsUser === 0) found.push(`${where}: runAsUser is 0`);
    const seccomp = (ctx.seccompProfile ?? podCtx.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') found.push(`${where}: seccomp profile is ${seccomp}`);
    for (const port of c.ports ?? []) if (port.hostPort) found.push(`${where}: hostPort ${port.hostPort}`);
  }
  return found;
}

/** The pod specs inside workload objects. */
export function podSpecsOf(object: any): any[] {
  switch (object.kind) {
    case 'Pod': return [object.spec];
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return [object.spec.template.spec];
    case 'CronJob': return [object.spec.jobTemplate.spec.template.spec];
    default: return [];
  }
}

const UNITS: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A Kubernetes quantity ("250m", "1", "512Mi") as a number of base units (cores, bytes). */
export function quantity(value: string | number): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(value));
  if (!match || !(match[2] in UNITS)) throw new Error(`not a quantity: ${value}`);
  return Number(match[1]) * UNITS[match[2]];
}
