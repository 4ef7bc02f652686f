import * as fs from 'fs';
import { StackProfile } from '../lib';
import { DEFAULT_ASSUMPTIONS, withOverrides } from '../scripts/cost/assumptions';
import { costSection, estimates, README, readmeCostSection } from '../scripts/cost/cost';
import { estimateCost, nodeVolumeGiB } from '../scripts/cost/model';
import { admittedTypes, allocatable, pack } from '../scripts/cost/nodes';
import { EC2 } from '../scripts/cost/prices';
import { podsOf } from '../scripts/cost/pods';
import { costedStack } from '../scripts/cost/stack';

// The cost model (scripts/cost) on the synthesized reference stack, and the model's own arithmetic.

const all = estimates();
const dev = all.get(StackProfile.DEVELOPMENT)!;
const prod = all.get(StackProfile.PRODUCTION)!;
const line = (estimate: typeof dev, item: RegExp) => estimate.lines.find(l => item.test(l.item));

describe('the estimate of the reference stack', () => {
  test('every pod is placed: each container requests CPU and memory', () => {
    expect(dev.unrequested).toEqual([]);
    expect(prod.unrequested).toEqual([]);
  });

  test('the lines add up to the total, and the README shows the current tables', () => {
    for (const estimate of all.values()) {
      expect(estimate.lines.reduce((s, l) => s + l.monthly, 0)).toBeCloseTo(estimate.total, 2);
    }
    expect(readmeCostSection(fs.readFileSync(README, 'utf8'))).toBe(costSection(all));
  });

  test('each profile prices what its template declares', () => {
    expect(line(dev, /^EKS control plane$/)!.monthly).toBe(73);
    expect(dev.lines.filter(l => l.item.startsWith('RDS ')).map(l => l.item)).toEqual(['RDS mlflow (db.t4g.micro)', 'RDS dagster (db.t4g.micro)']);
    expect(prod.lines.filter(l => l.item.startsWith('RDS ')).map(l => l.item))
      .toEqual(['RDS mlflow (db.m7g.large, Multi-AZ)', 'RDS dagster (db.m7g.large, Multi-AZ)']);
    expect(line(prod, /^ElastiCache/)!.item).toBe('ElastiCache for Valkey (2 x cache.m7g.large)');
    // The model's two drift alarms and the eight on the databases and the cache.
    expect(line(dev, /^CloudWatch alarms$/)!.basis).toBe('10 x 0.1');
    // PRODUCTION's pods (two replicas of most servers, ten concurrent runs) need several nodes.
    expect(prod.nodes.count).toBeGreaterThan(dev.nodes.count);
    expect(prod.total).toBeGreaterThan(dev.total * 3);
  });
});

describe('the model', () => {
  const { template, objects } = costedStack(StackProfile.DEVELOPMENT);
  const nodePool = objects.find(o => o.kind === 'NodePool');

  test('the node pool admits the x86 c, m and r types of generation 5 and later, not Graviton', () => {
    const admitted = admittedTypes(nodePool);
    expect(admitted).toEqual(expect.arrayContaining(['c6a.large', 'm5a.large', 'r6a.large', 'm6a.xlarge']));
    expect(admitted.filter(t => t.startsWith('t4g'))).toEqual([]);
    const older = { ...nodePool, spec: { template: { spec: { requirements: [{ key: 'eks.amazonaws.com/instance-generation', operator: 'Lt', values: ['6'] }] } } } };
    expect(admittedTypes(older)).toEqual(expect.arrayContaining(['c5a.large', 'm5a.large']));
    expect(admittedTypes(older)).not.toContain('m6a.large');
    const unknown = { ...nodePool, spec: { template: { spec: { requirements: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] } } } };
    expect(() => admittedTypes(unknown)).toThrow(/NodePool mlops: the cost model does not know requirement topology.kubernetes.io\/zone/);
  });

  test('a node offers its capacity less the kubelet\'s reservation and the eviction threshold', () => {
    // 2 vCPU: 60m + 10m; 8 GiB: 255 MiB + 11 MiB x 110 pods + 100 MiB.
    expect(allocatable(EC2['m5a.large'], 110)).toEqual({ cpu: 1.93, memoryGiB: 8 - 1565 / 1024 });
    expect(allocatable(EC2['c6a.2xlarge'], 58).cpu).toBeCloseTo(8 - 0.06 - 0.01 - 0.01 - 0.01, 6);
  });

  test('pods go onto as few nodes as hold them, and a pod larger than any node fits nowhere', () => {
    const pod = (cpu: number, memoryGiB: number) => ({ owner: 'x', cpu, memoryGiB });
    expect(pack([pod(1, 1), pod(0.9, 1)], EC2['m5a.large'], 110)).toBe(1);
    expect(pack([pod(1, 1), pod(1, 1)], EC2['m5a.large'], 110)).toBe(2);
    expect(pack([pod(0.1, 3), pod(0.1, 3), pod(0.1, 3)], EC2['m5a.large'], 110)).toBe(2);
    expect(pack([pod(3, 1)], EC2['m5a.large'], 110)).toBeUndefined();
    expect(pack([pod(0.01, 0.01), pod(0.01, 0.01), pod(0.01, 0.01)], EC2['m5a.large'], 2)).toBe(2);
  });

  test('controllers\' pods count: the model server with its agent, and Dagster\'s concurrent runs', () => {
    const { pods } = podsOf(objects);
    expect(pods.filter(p => p.owner === 'InferenceService/churn')).toEqual([{ owner: 'InferenceService/churn', cpu: 0.2, memoryGiB: (256 + 100) / 1024 }]);
    expect(pods.filter(p => p.owner === 'Dagster run')).toHaveLength(1);
    expect(pods.filter(p => p.owner === 'Job/cert-manager-startupapicheck')).toEqual([]);
  });

  test('a node\'s volume is its NodeClass\'s: 40 GiB in DEVELOPMENT, 80 in PRODUCTION, Auto Mode\'s 80 when unset', () => {
    expect(nodeVolumeGiB(objects, nodePool)).toBe(40);
    expect(line(dev, /^Node volumes/)!.basis).toBe(`${dev.nodes.count} x 40 GiB x 0.08`);
    expect(line(prod, /^Node volumes/)!.basis).toBe(`${prod.nodes.count} x 80 GiB x 0.08`);
    const withClass = (spec: any) => objects.map(o => (o.kind === 'NodeClass' ? { ...o, spec } : o));
    expect(nodeVolumeGiB(withClass({}), nodePool)).toBe(80);
    expect(() => nodeVolumeGiB(withClass({ ephemeralStorage: { size: '100G' } }), nodePool))
      .toThrow('cost model: NodeClass mlops: ephemeralStorage.size 100G is not in Gi');
    expect(() => nodeVolumeGiB(objects.filter(o => o.kind !== 'NodeClass'), nodePool))
      .toThrow('cost model: NodePool mlops names NodeClass mlops, which the stack does not apply');
  });

  test('Multi-AZ bills the standby, and a price the table lacks fails naming the table', () => {
    const withDb = (props: any) => ({ Resources: { ...template.Resources, Db: { Type: 'AWS::RDS::DBInstance', Properties: props } } });
    const single = estimateCost(withDb({ DBName: 'x', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: '20' }), objects, DEFAULT_ASSUMPTIONS);
    const multi = estimateCost(withDb({ DBName: 'x', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: '20', MultiAZ: true }), objects, DEFAULT_ASSUMPTIONS);
    expect(multi.total - single.total).toBeCloseTo(13.98, 2);
    expect(() => estimateCost(withDb({ DBName: 'x', DBInstanceClass: 'db.x2g.16xlarge', AllocatedStorage: '20' }), objects, DEFAULT_ASSUMPTIONS))
      .toThrow('cost model: no price for RDS instance class db.x2g.16xlarge; add it to scripts/cost/prices.ts');
  });

  test('assumptions are overridden by name, and an unknown name is refused with the known ones', () => {
    const more = withOverrides(DEFAULT_ASSUMPTIONS, ['natTrafficGiB=1000', 'controlPlaneLogGiB.audit=40']);
    expect(more.natTrafficGiB).toBe(1000);
    expect(more.controlPlaneLogGiB.audit).toBe(40);
    expect(DEFAULT_ASSUMPTIONS.controlPlaneLogGiB.audit).toBe(4);
    const base = estimateCost(template, objects, DEFAULT_ASSUMPTIONS);
    // 36 GiB more audit log a month: ingested, and kept a year (the group EKS makes never expires).
    expect(estimateCost(template, objects, more).total - base.total).toBeCloseTo(36 * (0.5 + 12 * 0.03), 1);
    expect(() => withOverrides(DEFAULT_ASSUMPTIONS, ['natTraffic=1'])).toThrow(/--assume natTraffic=1: expected name=number, name one of natTrafficGiB, flowLogGiB, controlPlaneLogGiB.api/);
  });
});

test('a GPU pool admits none of the priced general-purpose types, so the pods stay priced on the general pool', () => {
  const gpuPool = { metadata: { name: 'mlops-gpu' }, spec: { template: { spec: { requirements: [
    { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: ['g6'] },
    { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] }] } } } };
  expect(admittedTypes(gpuPool)).toEqual([]);
});
