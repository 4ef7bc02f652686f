import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * Alarms on the managed services the components stand on, from the metrics RDS and ElastiCache
 * publish themselves (no collector, nothing to run): a database running out of storage, CPU or
 * connections, a cache running out of memory or evicting keys. Each notifies the stack's alert
 * topic when it fires and when it clears.
 *
 * Every alarm reads one-minute figures and fires after at most `HEALTH_DETECTION_SECONDS`
 * (its period times its evaluation periods), so a failing dependency is known within five minutes.
 */
export const HEALTH_DETECTION_SECONDS = 300;
const MINUTE = Duration.minutes(1);
/** Sustained conditions (CPU, connections, memory) must hold three minutes; one bad minute is noise. */
const SUSTAINED_MINUTES = 3;

/**
 * Memory (GiB) of the RDS classes the profiles use, for PostgreSQL's default `max_connections`
 * (LEAST(DBInstanceClassMemory / 9531392, 5000), RDS for PostgreSQL user guide). The memory RDS
 * counts is below the class's nominal memory, so the estimate takes 80 % of it. A class outside the
 * table gets no connection alarm rather than a guessed threshold.
 */
const RDS_MEMORY_GIB: Record<string, number> = {
  'db.t4g.micro': 1, 'db.t4g.small': 2, 'db.t4g.medium': 4, 'db.t4g.large': 8,
  'db.m7g.large': 8, 'db.m7g.xlarge': 16, 'db.m7g.2xlarge': 32, 'db.r7g.large': 16, 'db.r7g.xlarge': 32,
};

/** A component's database, as the alarms name and size it. */
export interface DatabaseHealth {
  /** The component's name for people, e.g. `MLflow`. */
  readonly component: string;
  readonly instance: rds.DatabaseInstance;
}

/** Properties of `PlatformHealthAlarms`. */
export interface PlatformHealthAlarmsProps {
  /** Topic every alarm notifies (the stack's alert topic). */
  readonly topic: sns.ITopic;
  /** The components' databases. */
  readonly databases: DatabaseHealth[];
  /** The Feast online store (every node of it is watched). */
  readonly cache?: elasticache.CfnReplicationGroup;
}

/** The alarms of `PlatformHealthAlarmsProps`; `alarms` lists them all. */
export class PlatformHealthAlarms extends Construct {
  /** Every alarm, for dashboards and tests. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: PlatformHealthAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    for (const db of props.databases) this.databaseAlarms(db);
    if (props.cache) this.cacheAlarms(props.cache);
  }

  private databaseAlarms({ component, instance }: DatabaseHealth): void {
    const cfn = instance.node.defaultChild as rds.CfnDBInstance;
    const dimensionsMap = { DBInstanceIdentifier: instance.instanceIdentifier };
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap, statistic, period: MINUTE });
    const allocatedGiB = Number(cfn.allocatedStorage);
    if (!Token.isUnresolved(cfn.allocatedStorage) && allocatedGiB > 0) {
      // Storage autoscaling grows the volume when less than 10 % is free; below 5 % it has not
      // kept up (or has reached its maximum), and a full volume stops every write.
      this.add(`${component}DatabaseStorage`, metric('FreeStorageSpace', 'Minimum'), {
        description: `${component} database: less than ${allocatedGiB * 0.05} GiB free (5 % of the ${allocatedGiB} GiB it started with; storage autoscaling has not kept up or is at its maximum); writes stop when it is full`,
        threshold: allocatedGiB * 0.05 * 1024 ** 3, comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, periods: 1,
      });
    }
    this.add(`${component}DatabaseCpu`, metric('CPUUtilization', 'Average'), {
      description: `${component} database: CPU above 90 % for ${SUSTAINED_MINUTES} minutes (queries slow down; on a burstable class, credits may be spent)`,
      threshold: 90, comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, periods: SUSTAINED_MINUTES,
    });
    // aws-rds renders the class lazily; it resolves to the literal class name.
    const instanceClass = Stack.of(this).resolve(cfn.dbInstanceClass);
    const memoryGiB = typeof instanceClass === 'string' ? RDS_MEMORY_GIB[instanceClass] : undefined;
    if (memoryGiB !== undefined) {
      const maxConnections = Math.min(Math.floor(0.8 * memoryGiB * 1024 ** 3 / 9531392), 5000);
      this.add(`${component}DatabaseConnections`, metric('DatabaseConnections', 'Maximum'), {
        description: `${component} database: more than 80 % of its about ${maxConnections} connections in use for ${SUSTAINED_MINUTES} minutes (new connections will be refused)`,
        threshold: Math.floor(maxConnections * 0.8), comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, periods: SUSTAINED_MINUTES,
      });
    }
  }

  private cacheAlarms(group: elasticache.CfnReplicationGroup): void {
    const nodes = group.numCacheClusters ?? 1;
    for (let i = 1; i <= nodes; i++) {
      const node = `${group.replicationGroupId}-${String(i).padStart(3, '0')}`;
      const metric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period: MINUTE });
      this.add(`FeastCacheMemory${i}`, metric('DatabaseMemoryUsagePercentage', 'Maximum'), {
        description: `Feast online store node ${node}: memory above 85 % for ${SUSTAINED_MINUTES} minutes (next, keys are evicted and features go missing)`,
        threshold: 85, comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, periods: SUSTAINED_MINUTES,
      });
      this.add(`FeastCacheEvictions${i}`, metric('Evictions', 'Sum'), {
        description: `Feast online store node ${node}: keys were evicted (features served from it are missing until the next materialization)`,
        threshold: 0, comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, periods: 1,
      });
    }
  }

  private add(id: string, metric: cloudwatch.Metric, o: {
    description: string; threshold: number; comparison: cloudwatch.ComparisonOperator; periods: number;
  }): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: o.description,
      metric,
      threshold: o.threshold,
      comparisonOperator: o.comparison,
      evaluationPeriods: o.periods,
      // RDS and ElastiCache publish every minute while the resource exists; a gap is not a fault
      // of the resource (the component's own availability is watched elsewhere).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
