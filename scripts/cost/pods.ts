import { parse } from 'yaml';
import { podSpecsOf, quantity } from '../../test/support/pod-security';

/** What the scheduler must find room for on a node, for one pod. */
export interface PodRequest {
  /** `Kind/name` of the object that makes the pod. */
  readonly owner: string;
  readonly cpu: number;
  readonly memoryGiB: number;
}

/** One pod spec's requests: its containers' sum, or its largest init container if that is more. */
function requestOf(owner: string, pod: any, unrequested: string[]): PodRequest {
  const sum = (key: string, containers: any[]) => containers.map(c => {
    const value = c.resources?.requests?.[key];
    if (value === undefined) unrequested.push(`${owner} ${c.name}: no ${key} request`);
    return quantity(value ?? 0);
  });
  const of = (key: string) => Math.max(sum(key, pod.containers).reduce((a, b) => a + b, 0), ...sum(key, pod.initContainers ?? []), 0);
  return { owner, cpu: of('cpu'), memoryGiB: of('memory') / 2 ** 30 };
}

/**
 * Every pod the objects keep running, one entry per replica, and the pods that controllers make
 * from them: an InferenceService's predictor (the model server with its requests and KServe's
 * agent with the `agent` requests of inferenceservice-config), and Dagster's run pods, as many as
 * `max_concurrent_runs`. CronJobs count as running: the node must have room when they fire.
 * Helm hooks (they run once while a release installs) do not count.
 */
export function podsOf(objects: any[]): { pods: PodRequest[]; unrequested: string[] } {
  const unrequested: string[] = [];
  const pods: PodRequest[] = [];
  const config = objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'inferenceservice-config');
  for (const object of objects) {
    if (object.metadata?.annotations?.['helm.sh/hook']) continue;
    const owner = `${object.kind}/${object.metadata.name}`;
    if (object.kind === 'InferenceService') {
      if (!config) throw new Error(`${owner}: no inferenceservice-config among the objects, so its agent's requests are unknown`);
      const agent = JSON.parse(config.data.agent);
      const predictor = object.spec.predictor;
      const containers = [{ name: 'kserve-container', resources: predictor.model.resources }];
      if (predictor.logger) containers.push({ name: 'agent', resources: { requests: { cpu: agent.cpuRequest, memory: agent.memoryRequest } } });
      const replicas = predictor.minReplicas ?? 1;
      for (let i = 0; i < replicas; i++) pods.push(requestOf(owner, { containers }, unrequested));
      continue;
    }
    if (object.kind === 'ConfigMap' && object.data?.['dagster.yaml']) {
      const instance = parse(object.data['dagster.yaml']);
      const runs = instance.run_coordinator?.config?.max_concurrent_runs ?? 0;
      const resources = instance.run_launcher?.config?.resources;
      for (let i = 0; i < runs; i++) pods.push(requestOf('Dagster run', { containers: [{ name: 'run', resources }] }, unrequested));
      continue;
    }
    for (const spec of podSpecsOf(object)) {
      const replicas = object.kind === 'Deployment' || object.kind === 'StatefulSet' ? object.spec.replicas ?? 1 : 1;
      for (let i = 0; i < replicas; i++) pods.push(requestOf(owner, spec, unrequested));
    }
  }
  return { pods, unrequested: [...new Set(unrequested)] };
}

/** The pods' requests added up. */
export function totalRequests(pods: PodRequest[]): { cpu: number; memoryGiB: number } {
  return pods.reduce((t, p) => ({ cpu: t.cpu + p.cpu, memoryGiB: t.memoryGiB + p.memoryGiB }), { cpu: 0, memoryGiB: 0 });
}
