import { GPU_NODE_POOL_NAME, GpuCapacityType, KubernetesManifests, ModelFormat, StackProfile } from '../lib';
import { synthReference } from './support/synth';
import { validateKubernetes } from './support/tools';

// A GPU node pool beside the general one (MlopsStackProps.gpuNodePool), and served models that ask
// for GPUs landing there without naming it.
const SOURCES = [{ bucketName: 'models', prefix: 'llm' }];
const GPU_MODEL = { name: 'llm', modelFormat: ModelFormat.HUGGINGFACE, storageUri: 's3://models/llm/v1', gpus: 1 };
const CPU_MODEL = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/llm/iris' };

describe('a stack with a GPU node pool and one GPU model', () => {
  const { stack } = synthReference(StackProfile.DEVELOPMENT, {
    gpuNodePool: { instanceFamilies: ['g6', 'g5'], maxGpus: 2 },
    kserve: { models: [GPU_MODEL, CPU_MODEL], modelSourceBuckets: SOURCES },
  });
  const manifests = KubernetesManifests.fromStack(stack);
  const objects = manifests.map(o => o.object);
  const pools = objects.filter(o => o.kind === 'NodePool');
  const gpuPool = pools.find(p => p.metadata.name === GPU_NODE_POOL_NAME);
  const predictor = (name: string) => objects.find(o => o.kind === 'InferenceService' && o.metadata.name === name).spec.predictor;

  test('the pool: NVIDIA instances of the chosen families, on demand, tainted, capped, emptied when idle', () => {
    expect(pools.map(p => p.metadata.name).sort()).toEqual(['mlops', 'mlops-gpu']);
    expect(gpuPool.spec.template.spec.requirements).toEqual([
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: ['g6', 'g5'] },
      { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ]);
    expect(gpuPool.spec.template.spec.taints).toEqual([{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }]);
    // The same NodeClass as the general pool: NetworkPolicy is enforced on GPU nodes too.
    const generalPool = pools.find(p => p.metadata.name === 'mlops');
    expect(gpuPool.spec.template.spec.nodeClassRef).toEqual(generalPool.spec.template.spec.nodeClassRef);
    expect(gpuPool.spec.limits).toEqual({ 'nvidia.com/gpu': '2' });
    expect(gpuPool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] });
    // Nothing but GPU pods: the general pool has no taint, so only pods that tolerate this one land here.
    expect(generalPool.spec.template.spec.taints).toBeUndefined();
  });

  test('the GPU model gets the pool\'s node selector and toleration, and asks for the GPU', () => {
    const gpu = predictor('llm');
    expect(gpu.nodeSelector).toEqual({ 'karpenter.sh/nodepool': 'mlops-gpu' });
    expect(gpu.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(gpu.model.resources.limits['nvidia.com/gpu']).toBe('1');
    // A model without GPUs stays on the general pool and cannot tolerate the GPU taint.
    const cpu = predictor('iris');
    expect(cpu.nodeSelector).toBeUndefined();
    expect(cpu.tolerations).toBeUndefined();
  });

  test('the pool, the nodes manifest and the models validate against the NodePool and InferenceService schemas', () => {
    const report = validateKubernetes(manifests.filter(m => ['NodePool', 'NodeClass', 'InferenceService'].includes(m.object.kind))
      .map(m => ({ source: m.logicalId, object: m.object })));
    expect(report.failures).toEqual([]);
    expect(report.validated).toBe(5);
  });
});

describe('GPU options', () => {
  test('a GPU model without a GPU pool fails at synth, naming the model and what to set', () => {
    expect(() => synthReference(StackProfile.DEVELOPMENT, { kserve: { models: [GPU_MODEL], modelSourceBuckets: SOURCES } }))
      .toThrow(/MlopsStack\/KServe\/models\/llm: invalid prop 'gpus' = 1; a GPU model needs GPU nodes: set gpuNodePool on the stack/);
  });

  test('a GPU model with a node selector of its own keeps it', () => {
    const { stack } = synthReference(StackProfile.DEVELOPMENT, { kserve: { modelSourceBuckets: SOURCES, models: [{ ...GPU_MODEL,
      nodeSelector: { 'team.example.com/gpu': 'a100' }, tolerations: [{ key: 'team.example.com/gpu' }] }] } });
    const isvc = KubernetesManifests.fromStack(stack).map(o => o.object).find(o => o.kind === 'InferenceService');
    expect(isvc.spec.predictor.nodeSelector).toEqual({ 'team.example.com/gpu': 'a100' });
  });

  test('spot capacity is a choice, on-demand the default', () => {
    const { stack } = synthReference(StackProfile.DEVELOPMENT, { gpuNodePool: { instanceFamilies: ['g6'], capacityType: GpuCapacityType.SPOT } });
    const pool = KubernetesManifests.fromStack(stack).map(o => o.object).find(o => o.kind === 'NodePool' && o.metadata.name === GPU_NODE_POOL_NAME);
    expect(pool.spec.template.spec.requirements[0]).toEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] });
    expect(pool.spec.limits).toEqual({ 'nvidia.com/gpu': '4' });
  });

  test.each([
    ['no family', { instanceFamilies: [] }, /^MlopsStack\/Platform: invalid prop 'gpuNodePool.instanceFamilies' = \[\]; allowed: one or more of g4dn, g5, g6/],
    ['a family without NVIDIA GPUs', { instanceFamilies: ['m5'] }, /invalid prop 'gpuNodePool.instanceFamilies' = \["m5"\]; allowed: one or more of/],
    ['zero GPUs', { instanceFamilies: ['g6'], maxGpus: 0 }, /^MlopsStack\/Platform: invalid prop 'gpuNodePool.maxGpus' = 0; allowed: a whole number of GPUs, 1 or more/],
  ])('%s fails at synth', (_name, gpuNodePool, message) => {
    expect(() => synthReference(StackProfile.DEVELOPMENT, { gpuNodePool })).toThrow(message);
  });
});
