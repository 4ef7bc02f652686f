// A model of how long CloudFormation takes to create a template: every resource starts when all it
// depends on (DependsOn, Ref, Fn::GetAtt, Fn::Sub) is done, and takes the typical time of its type.
// The figures are typical creation times of each type, not measurements of this stack; the model
// is for comparing dependency graphs, which it does exactly.

/** Typical minutes CloudFormation spends creating one resource of a type. */
export const TYPICAL_MINUTES: Record<string, number> = {
  'AWS::EKS::Cluster': 12,
  'AWS::ElastiCache::ReplicationGroup': 12,
  'AWS::RDS::DBInstance': 10,
  'AWS::EC2::NatGateway': 2,
  'AWS::EC2::Instance': 1,
  // A function in a VPC waits for its network interfaces.
  'AWS::Lambda::Function': 1,
  'AWS::KMS::Key': 1,
  'AWS::IAM::Role': 0.5,
  'AWS::IAM::Policy': 0.5,
  'AWS::IAM::ManagedPolicy': 0.5,
  'AWS::S3::Bucket': 0.5,
  'AWS::EKS::PodIdentityAssociation': 0.5,
  'AWS::EKS::AccessEntry': 0.5,
  'AWS::ElastiCache::User': 1,
  'AWS::ElastiCache::UserGroup': 1,
  // kubectl apply of a manifest through the kubectl provider (a Lambda invocation).
  'Custom::AWSCDK-EKS-KubernetesResource': 0.5,
};
/** Everything else (routes, security groups, secrets, parameters, associations). */
export const DEFAULT_MINUTES = 0.2;
/**
 * A Helm release with `Wait` and workloads: the pods must be scheduled (a node launched by Auto
 * Mode for the first), pull their images and become ready. Without workloads, it is an apply.
 */
export const HELM_WITH_PODS_MINUTES = 2;
export const HELM_WITHOUT_PODS_MINUTES = 0.5;

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

/** The logical IDs a resource waits for. */
export function dependenciesOf(resource: any, ids: Set<string>): Set<string> {
  const found = new Set<string>(resource.DependsOn ?? []);
  const walk = (value: any) => {
    if (Array.isArray(value)) { value.forEach(walk); return; }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner;
        for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) found.add(m[1]);
        if (Array.isArray(inner)) walk(inner[1]);
      } else walk(inner);
    }
  };
  walk(resource.Properties ?? {});
  // Pseudo parameters (AWS::Region) and template parameters are not resources.
  return new Set([...found].filter(id => ids.has(id)));
}

export interface Schedule {
  /** Minute each resource is done, from the start of the deploy. */
  readonly finish: Map<string, number>;
  /** For each resource, the dependency it waited for last (the critical one). */
  readonly waitedFor: Map<string, string | undefined>;
}

/**
 * When each resource is done. `helmReleasesWithPods` names the Helm releases (logical IDs) whose
 * charts render workloads.
 */
export function schedule(template: any, helmReleasesWithPods: Set<string>): Schedule {
  const resources: Record<string, any> = template.Resources;
  const ids = new Set(Object.keys(resources));
  const finish = new Map<string, number>();
  const waitedFor = new Map<string, string | undefined>();
  const visiting = new Set<string>();
  const minutes = (id: string) => {
    const type = resources[id].Type;
    if (type === 'Custom::AWSCDK-EKS-HelmChart') return helmReleasesWithPods.has(id) ? HELM_WITH_PODS_MINUTES : HELM_WITHOUT_PODS_MINUTES;
    return TYPICAL_MINUTES[type] ?? DEFAULT_MINUTES;
  };
  const done = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
    visiting.add(id);
    let start = 0;
    let last: string | undefined;
    for (const dep of dependenciesOf(resources[id], ids)) {
      const t = done(dep);
      if (t > start) { start = t; last = dep; }
    }
    visiting.delete(id);
    finish.set(id, start + minutes(id));
    waitedFor.set(id, last);
    return start + minutes(id);
  };
  for (const id of ids) done(id);
  return { finish, waitedFor };
}

/** The chain of resources that ends last: each waited for the one before it. */
export function criticalPath(s: Schedule): string[] {
  let id: string | undefined = [...s.finish.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const path: string[] = [];
  while (id) { path.unshift(id); id = s.waitedFor.get(id); }
  return path;
}

/** Whether a rendered Helm release creates workloads. */
export function rendersWorkloads(objects: any[]): boolean {
  return objects.some(o => WORKLOAD_KINDS.includes(o.kind) && !o.metadata?.annotations?.['helm.sh/hook']);
}
