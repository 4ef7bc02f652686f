import { ModelFormat, StackProfile } from '../lib';
import { synthReference } from './support/synth';

// Budget: after the cluster exists, the first deploy applies Helm releases and manifests one after
// another wherever one depends on another. Independent ones run in parallel, so the deploy takes as
// long as the longest chain; this pins that chain, so a new component that serializes needlessly
// (or a dependency that goes missing) shows up here.
const K8S_TYPES = ['Custom::AWSCDK-EKS-KubernetesResource', 'Custom::AWSCDK-EKS-HelmChart'];

/** For each Helm release and manifest, the longest chain of them that ends with it. */
function chains(resources: Record<string, any>): Map<string, string[]> {
  const isK8s = (id: string) => K8S_TYPES.includes(resources[id].Type);
  // The Kubernetes applies each one waits for, directly or through other resources (roles, databases).
  const ancestors = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    if (!ancestors.has(id)) {
      const found = new Set<string>();
      ancestors.set(id, found);
      for (const dep of resources[id].DependsOn ?? []) {
        if (isK8s(dep)) found.add(dep);
        for (const a of visit(dep)) found.add(a);
      }
    }
    return ancestors.get(id)!;
  };
  const chain = new Map<string, string[]>();
  const longest = (id: string): string[] => {
    if (!chain.has(id)) {
      const before = [...visit(id)].map(longest).reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
      chain.set(id, [...before, id]);
    }
    return chain.get(id)!;
  };
  return new Map(Object.keys(resources).filter(isK8s).map(id => [id, longest(id)]));
}

function longestChain(resources: Record<string, any>): string[] {
  return [...chains(resources).values()].reduce((a, b) => (b.length > a.length ? b : a), []);
}

test.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('%s: the longest chain of Helm releases and manifests is four', profile => {
  const resources = synthReference(profile).template.toJSON().Resources;
  const chain = longestChain(resources).map(id => id.replace(/[0-9A-F]{8}$/, ''));
  // First the node pool (with NetworkPolicy enforcement) and the namespaces, in parallel; then the
  // operator, each component's store, and the components side by side (MLflow, Feast, Dagster): none
  // waits for another.
  // KServe's chain (cert-manager or the runtimes, the controller, the models) runs beside them.
  expect(chain[1]).toEqual('PlatformClusterchartExternalSecretsChart');
  expect(chain[2]).toMatch(/^PlatformClusterExternalSecretsStore(mlflow|feast|dagster)$/);
  expect(['PlatformClusterMlflowChart', 'PlatformClusterFeastChart', 'PlatformClusterDagsterChart']).toContain(chain[3]);
  const all = chains(resources);
  const id = (prefix: string) => Object.keys(resources).find(r => r.startsWith(prefix))!;
  const componentChains = [...all.entries()].filter(([k]) => /^PlatformCluster(Mlflow|Feast|Dagster)Chart/.test(k))
    .map(([, c]) => c.map(x => x.replace(/[0-9A-F]{8}$/, '')));
  expect(componentChains).toHaveLength(3);
  for (const c of componentChains) {
    expect(c).toHaveLength(4);
    // Each component after its own namespace's store.
    const component = /^PlatformCluster(Mlflow|Feast|Dagster)Chart$/.exec(c[3])![1].toLowerCase();
    expect(c.slice(1, 3)).toEqual(['PlatformClusterchartExternalSecretsChart', `PlatformClusterExternalSecretsStore${component}`]);
  }
  expect(['PlatformClusterNodes', 'PlatformClusterExternalSecretsNamespace', 'PlatformClusterKServeNamespaces', 'PlatformClusterchartKServeCrds'])
    .toContain(chain[0]);
  // KServe: cert-manager (after its namespace and the node pool) and the runtimes (after the CRDs)
  // side by side, then the controller; parallel to External Secrets. Without models, the models
  // manifest (namespace, accounts, storage container) needs only the CRDs and runtimes.
  const modelChains = [...all.entries()].filter(([k]) => k.startsWith('PlatformClusterKServeModels')).map(([, c]) => c.map(x => x.replace(/[0-9A-F]{8}$/, '')));
  expect(modelChains).toEqual([['PlatformClusterchartKServeCrds', 'PlatformClusterchartKServeRuntimes', 'PlatformClusterKServeModels']]);
  const deps = (prefix: string) => (resources[id(prefix)].DependsOn ?? []).filter((d: string) => K8S_TYPES.includes(resources[d].Type))
    .map((d: string) => d.replace(/[0-9A-F]{8}$/, '')).sort();
  expect(deps('PlatformClusterchartKServeController')).toEqual(['PlatformClusterchartKServeCertManager', 'PlatformClusterchartKServeCrds', 'PlatformClusterchartKServeRuntimes']);
  expect(deps('PlatformClusterchartKServeRuntimes')).toEqual(['PlatformClusterchartKServeCrds']);
  expect(deps('PlatformClusterchartKServeCrds')).toEqual([]);
  expect(deps('PlatformClusterchartKServeCertManager')).toEqual(['PlatformClusterKServeNamespaces', 'PlatformClusterNodes']);
  expect(deps('PlatformClusterKServeModels')).toEqual(['PlatformClusterchartKServeRuntimes']);
  // The CRD release creates KServe's namespace itself, so it needs no namespace manifest before it.
  expect(resources[id('PlatformClusterchartKServeCrds')].Properties.CreateNamespace).toBe(true);
  for (const [a, b] of [['PlatformClusterNodes', 'PlatformClusterExternalSecretsNamespace'], ['PlatformClusterNodes', 'PlatformClusterWorkloadNamespace']]) {
    expect(resources[id(a)].DependsOn ?? []).not.toContain(id(b));
    expect(resources[id(b)].DependsOn ?? []).not.toContain(id(a));
  }
});

test('InferenceServices wait for KServe\'s controller, whose webhooks admit them', () => {
  const resources = synthReference(StackProfile.DEVELOPMENT, { kserve: {
    models: [{ name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris' }],
    modelSourceBuckets: [{ bucketName: 'models', prefix: 'iris' }] } }).template.toJSON().Resources;
  const models = Object.keys(resources).find(r => r.startsWith('PlatformClusterKServeModels'))!;
  expect(resources[models].DependsOn.filter((d: string) => K8S_TYPES.includes(resources[d].Type)).map((d: string) => d.replace(/[0-9A-F]{8}$/, '')).sort())
    .toEqual(['PlatformClusterchartKServeController', 'PlatformClusterchartKServeRuntimes']);
});

test('the chain finder sees a chain through a non-Kubernetes resource', () => {
  const k = (deps: string[] = []) => ({ Type: K8S_TYPES[0], DependsOn: deps });
  expect(longestChain({ A: k(), Role: { Type: 'AWS::IAM::Role', DependsOn: ['A'] }, B: k(['Role']), C: k(['B']), D: k() }))
    .toEqual(['A', 'B', 'C']);
});
