import { stackObjects, standaloneCharts } from './support/objects';
import { SourcedObject } from './support/tools';

// A selector that matches no pod fails silently: a Service with no endpoints, a disruption budget
// or NetworkPolicy that guards nothing. Each one must select the pods it was written for.
const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet'];
const sets: SourcedObject[][] = [...stackObjects().map(p => [...p.manifests, ...p.charts]), standaloneCharts()];

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function podTemplates(objects: SourcedObject[], namespace: string | undefined): Record<string, string>[] {
  return objects.filter(({ object }) => WORKLOADS.includes(object.kind) || object.kind === 'CronJob')
    .filter(({ object }) => (object.metadata.namespace ?? namespace) === namespace)
    .map(({ object }) => (object.kind === 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template).metadata?.labels ?? {});
}

test.each(sets.map((objects, i) => [i, objects] as const))('set %s: every workload selects its own pod template', (_i, objects) => {
  const workloads = objects.filter(({ object }) => WORKLOADS.includes(object.kind));
  expect(workloads.length).toBeGreaterThan(3);
  for (const { source, object } of workloads) {
    const where = `${source} ${object.kind}/${object.metadata.name}`;
    const selector = object.spec.selector.matchLabels;
    expect({ where, selector: Object.keys(selector).length > 0 }).toEqual({ where, selector: true });
    expect({ where, matches: matches(selector, object.spec.template.metadata?.labels) }).toEqual({ where, matches: true });
  }
});

test.each(sets.map((objects, i) => [i, objects] as const))('set %s: every Service and disruption budget selects pods of its namespace', (_i, objects) => {
  const selecting = objects.filter(({ object }) => ['Service', 'PodDisruptionBudget'].includes(object.kind));
  expect(selecting.length).toBeGreaterThan(3);
  for (const { source, object } of selecting) {
    const selector = object.kind === 'Service' ? object.spec.selector : object.spec.selector?.matchLabels;
    if (!selector) continue; // a Service without a selector (endpoints managed by someone else)
    const where = `${source} ${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
    const pods = podTemplates(objects, object.metadata.namespace);
    expect({ where, selects: pods.some(labels => matches(selector, labels)) }).toEqual({ where, selects: true });
  }
});
