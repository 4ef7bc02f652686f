import { HEALTH_DETECTION_SECONDS, StackProfile } from '../lib';
import { synthReference } from './support/synth';

// Alarms on the databases and the cache the components stand on (lib/core/health-alarms.ts): what
// each watches, what the person paged reads, and that each fires within five minutes.
describe.each([
  // PostgreSQL's max_connections from 80 % of the class's memory: db.t4g.micro (1 GiB) about 90,
  // db.m7g.large (8 GiB) about 720; the alarms fire at 80 % of that.
  [StackProfile.DEVELOPMENT, 1, 90, 72],
  [StackProfile.PRODUCTION, 2, 720, 576],
])('%s: health alarms', (profile, cacheNodes, maxConnections, connectionThreshold) => {
  const { stack, template } = synthReference(profile);
  const resources: Record<string, any> = template.toJSON().Resources;
  const health = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.startsWith('Health')).map(([, r]) => r.Properties);
  const topic = Object.keys(resources).find(id => resources[id].Type === 'AWS::SNS::Topic')!;
  const byMetric = (metric: string) => health.filter(a => a.MetricName === metric);

  test('storage, CPU and connections of both databases; memory and evictions of every cache node', () => {
    expect(health.map(a => `${a.Namespace} ${a.MetricName}`).sort()).toEqual([
      ...['CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace'].flatMap(m => [`AWS/RDS ${m}`, `AWS/RDS ${m}`]),
      ...Array(cacheNodes).fill(['AWS/ElastiCache DatabaseMemoryUsagePercentage', 'AWS/ElastiCache Evictions']).flat(),
    ].sort());
    const databases = Object.keys(resources).filter(id => resources[id].Type === 'AWS::RDS::DBInstance').sort();
    for (const metric of ['CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace']) {
      expect(byMetric(metric).map(a => a.Dimensions).sort((a, b) => a[0].Value.Ref.localeCompare(b[0].Value.Ref)))
        .toEqual(databases.map(id => [{ Name: 'DBInstanceIdentifier', Value: { Ref: id } }]));
    }
    const group = Object.values(resources).find(r => r.Type === 'AWS::ElastiCache::ReplicationGroup').Properties;
    expect(byMetric('Evictions').map(a => a.Dimensions[0].Value).sort())
      .toEqual([...Array(cacheNodes).keys()].map(i => `${group.ReplicationGroupId}-00${i + 1}`));
  });

  test('thresholds: 5 % of the first volume free, 90 % CPU, 80 % of the class\'s connections, 85 % cache memory, any eviction', () => {
    const allocated = Number(Object.values(resources).find(r => r.Type === 'AWS::RDS::DBInstance').Properties.AllocatedStorage);
    expect(byMetric('FreeStorageSpace').map(a => [a.Threshold, a.ComparisonOperator, a.Statistic]))
      .toEqual(Array(2).fill([allocated * 0.05 * 1024 ** 3, 'LessThanThreshold', 'Minimum']));
    expect(byMetric('CPUUtilization').map(a => [a.Threshold, a.ComparisonOperator])).toEqual(Array(2).fill([90, 'GreaterThanThreshold']));
    expect(byMetric('DatabaseConnections').map(a => [a.Threshold, a.Statistic])).toEqual(Array(2).fill([connectionThreshold, 'Maximum']));
    expect(byMetric('DatabaseMemoryUsagePercentage').map(a => a.Threshold)).toEqual(Array(cacheNodes).fill(85));
    expect(byMetric('Evictions').map(a => [a.Threshold, a.ComparisonOperator, a.Statistic])).toEqual(Array(cacheNodes).fill([0, 'GreaterThanThreshold', 'Sum']));
  });

  test('each fires within five minutes, to the stack\'s alert topic, and says so when it clears', () => {
    expect(health.length).toBe(6 + 2 * cacheNodes);
    for (const alarm of health) {
      expect(alarm.Period * alarm.EvaluationPeriods).toBeLessThanOrEqual(HEALTH_DETECTION_SECONDS);
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
    }
    expect(stack.health.alarms).toHaveLength(health.length);
  });

  test('what the person paged reads names the component and what will break', () => {
    const text = (metric: string) => byMetric(metric).map(a => a.AlarmDescription).sort();
    expect(text('CPUUtilization')).toEqual(['Dagster', 'MLflow'].map(c =>
      `${c} database: CPU above 90 % for 3 minutes (queries slow down; on a burstable class, credits may be spent)`));
    expect(text('FreeStorageSpace')[0]).toMatch(/^Dagster database: less than [0-9.]+ GiB free \(5 % of the [0-9]+ GiB it started with; .*writes stop when it is full$/);
    expect(text('DatabaseConnections')[1]).toBe(`MLflow database: more than 80 % of its about ${maxConnections} connections in use for 3 minutes (new connections will be refused)`);
    expect(text('Evictions')[0]).toMatch(/^Feast online store node [a-z-]+-001: keys were evicted \(features served from it are missing until the next materialization\)$/);
  });
});
