// The monthly bill of a synthesized stack, from its template and the Kubernetes objects it applies.
import { Assumptions } from './assumptions';
import { admittedTypes, pack } from './nodes';
import { PodRequest, podsOf, totalRequests } from './pods';
import { autoModeFeePerHour, EC2, HOURS_PER_MONTH, PRICES } from './prices';

/** One line of the bill. */
export interface CostLine {
  /** What is billed, e.g. `EKS control plane`. */
  readonly item: string;
  /** How the figure was reached, e.g. `1 cluster x 730 h x 0.10`. */
  readonly basis: string;
  /** USD a month. */
  readonly monthly: number;
}

/** The estimate for one stack. */
export interface CostEstimate {
  readonly lines: CostLine[];
  readonly total: number;
  /** The node type and count the pods pack onto most cheaply. */
  readonly nodes: { type: string; count: number; podCpu: number; podMemoryGiB: number };
  /** Containers without a request; the estimate cannot place them. */
  readonly unrequested: string[];
}

const money = (n: number) => n.toFixed(4).replace(/\.?0+$/, '');

function priceOf<T>(table: Record<string, T>, key: string, what: string): T {
  if (!(key in table)) throw new Error(`cost model: no price for ${what} ${key}; add it to scripts/cost/prices.ts`);
  return table[key];
}

/** The bill of `template` (parsed CloudFormation) whose Kubernetes objects are `objects`. */
export function estimateCost(template: any, objects: any[], assumptions: Assumptions): CostEstimate {
  const resources = Object.values<any>(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(r => r.Type === type).map(r => r.Properties ?? {});
  const lines: CostLine[] = [];
  const add = (item: string, basis: string, monthly: number) => { if (monthly > 0) lines.push({ item, basis, monthly }); };
  const hourly = (n: number, perHour: number) => n * perHour * HOURS_PER_MONTH;

  const clusters = ofType('AWS::EKS::Cluster');
  add('EKS control plane', `${clusters.length} x ${HOURS_PER_MONTH} h x ${PRICES.eksClusterPerHour}`, hourly(clusters.length, PRICES.eksClusterPerHour));

  const { pods, unrequested } = podsOf(objects);
  const nodes = cheapestNodes(objects, pods, assumptions);
  const total = totalRequests(pods);
  const node = nodeMonthly(nodes.type, nodes.volumeGiB);
  add(`Nodes (${nodes.count} x ${nodes.type}, Auto Mode fee included)`,
    `${pods.length} pods request ${total.cpu.toFixed(2)} vCPU / ${total.memoryGiB.toFixed(2)} GiB; ${nodes.count} x (${EC2[nodes.type].perHour} + ${money(autoModeFeePerHour(nodes.type))}) x ${HOURS_PER_MONTH} h`,
    nodes.count * node.instance);
  add('Node volumes (gp3)', `${nodes.count} x ${nodes.volumeGiB} GiB x ${PRICES.ebsGp3PerGiBMonth}`, nodes.count * node.volume);

  const nat = ofType('AWS::EC2::NatGateway').length;
  add('NAT gateways', `${nat} x ${HOURS_PER_MONTH} h x ${PRICES.natGatewayPerHour} + ${assumptions.natTrafficGiB} GiB x ${PRICES.natGatewayPerGiB}`,
    hourly(nat, PRICES.natGatewayPerHour) + (nat > 0 ? assumptions.natTrafficGiB * PRICES.natGatewayPerGiB : 0));
  for (const instance of ofType('AWS::EC2::Instance')) {
    const type = instance.InstanceType;
    const { perHour } = priceOf(EC2, type, 'instance type');
    const volume = (instance.BlockDeviceMappings ?? []).reduce((s: number, b: any) => s + Number(b.Ebs?.VolumeSize ?? 0), 0) || 8;
    add(`EC2 instance (${type})`, `${HOURS_PER_MONTH} h x ${perHour} + ${volume} GiB gp3`,
      hourly(1, perHour) + volume * PRICES.ebsGp3PerGiBMonth);
  }
  // Elastic IPs, and the addresses instances take on launch (a NAT instance's).
  const ips = ofType('AWS::EC2::EIP').length + ofType('AWS::EC2::Instance')
    .filter(i => (i.NetworkInterfaces ?? []).some((n: any) => n.AssociatePublicIpAddress === true)).length;
  add('Public IPv4 addresses', `${ips} x ${HOURS_PER_MONTH} h x ${PRICES.publicIpv4PerHour}`, hourly(ips, PRICES.publicIpv4PerHour));

  for (const db of ofType('AWS::RDS::DBInstance')) {
    const copies = db.MultiAZ ? 2 : 1;
    const perHour = priceOf(PRICES.rdsPerHour, db.DBInstanceClass, 'RDS instance class');
    const storage = Number(db.AllocatedStorage);
    add(`RDS ${db.DBName ?? db.DBInstanceIdentifier} (${db.DBInstanceClass}${copies === 2 ? ', Multi-AZ' : ''})`,
      `${copies} x ${HOURS_PER_MONTH} h x ${perHour} + ${copies} x ${storage} GiB x ${PRICES.rdsStoragePerGiBMonth}`,
      hourly(copies, perHour) + copies * storage * PRICES.rdsStoragePerGiBMonth);
  }
  for (const cache of ofType('AWS::ElastiCache::ReplicationGroup')) {
    const count = cache.NumCacheClusters ?? (cache.NumNodeGroups ?? 1) * ((cache.ReplicasPerNodeGroup ?? 0) + 1);
    if (cache.Engine !== 'valkey') throw new Error(`cost model: engine ${cache.Engine} has no price; add it to scripts/cost/prices.ts`);
    const perHour = priceOf(PRICES.valkeyPerNodeHour, cache.CacheNodeType, 'ElastiCache node type');
    add(`ElastiCache for Valkey (${count} x ${cache.CacheNodeType})`, `${count} x ${HOURS_PER_MONTH} h x ${perHour}`, hourly(count, perHour));
  }

  const keys = ofType('AWS::KMS::Key').length;
  add('KMS keys', `${keys} x ${PRICES.kmsKeyPerMonth}`, keys * PRICES.kmsKeyPerMonth);
  const secrets = ofType('AWS::SecretsManager::Secret').length;
  // The External Secrets operator reads each synced secret once an hour (refreshInterval 1h).
  const syncs = objects.filter(o => o.kind === 'ExternalSecret').length * HOURS_PER_MONTH;
  add('Secrets Manager', `${secrets} secrets x ${PRICES.secretPerMonth} + ${syncs} reads x ${PRICES.secretApiPer10k} / 10k`,
    secrets * PRICES.secretPerMonth + (syncs / 10_000) * PRICES.secretApiPer10k);

  lines.push(...logLines(template.Resources ?? {}, assumptions));

  const alarms = ofType('AWS::CloudWatch::Alarm');
  add('CloudWatch alarms', `${alarms.length} x ${PRICES.alarmPerMonth}`, alarms.length * PRICES.alarmPerMonth);
  const metrics = new Set(alarms.filter(a => a.Namespace && !a.Namespace.startsWith('AWS/'))
    .map(a => JSON.stringify([a.Namespace, a.MetricName, a.Dimensions])));
  add('CloudWatch custom metrics', `${metrics.size} x ${PRICES.customMetricPerMonth}`, metrics.size * PRICES.customMetricPerMonth);

  const buckets = ofType('AWS::S3::Bucket').length;
  add('S3 storage', `${assumptions.s3GiB} GiB across ${buckets} buckets x ${PRICES.s3StandardPerGiBMonth}`,
    buckets > 0 ? assumptions.s3GiB * PRICES.s3StandardPerGiBMonth : 0);
  const images = new Set(JSON.stringify(objects).match(/container-assets-[^"\\]*?:[0-9a-f]{64}/g) ?? []).size;
  add('ECR images the stack builds', `${images} x ${assumptions.imageGiB} GiB x ${PRICES.ecrPerGiBMonth}`, images * assumptions.imageGiB * PRICES.ecrPerGiBMonth);
  const albs = objects.filter(o => o.kind === 'Ingress' && o.spec?.ingressClassName !== undefined).length;
  add('Application load balancers', `${albs} x ${HOURS_PER_MONTH} h x (${PRICES.albPerHour} + ${assumptions.albLcus} LCU x ${PRICES.albLcuPerHour})`,
    hourly(albs, PRICES.albPerHour + assumptions.albLcus * PRICES.albLcuPerHour));

  const rounded = lines.map(l => ({ ...l, monthly: Math.round(l.monthly * 100) / 100 }));
  return {
    lines: rounded,
    total: Math.round(rounded.reduce((s, l) => s + l.monthly, 0) * 100) / 100,
    nodes: { ...nodes, podCpu: total.cpu, podMemoryGiB: total.memoryGiB },
    unrequested,
  };
}

/** The cheapest way to run the pods on one type the stack's NodePools admit. */
function cheapestNodes(objects: any[], pods: PodRequest[], assumptions: Assumptions): { type: string; count: number; volumeGiB: number } {
  const pools = objects.filter(o => o.kind === 'NodePool');
  if (pools.length === 0) throw new Error('cost model: no NodePool among the objects; the pods have nowhere to run');
  const candidates = pools.flatMap(pool => {
    const volumeGiB = nodeVolumeGiB(objects, pool);
    return admittedTypes(pool).flatMap(type => {
      const count = pack(pods, EC2[type], assumptions.maxPodsPerNode);
      const { instance, volume } = nodeMonthly(type, volumeGiB);
      return count === undefined ? [] : [{ type, count, volumeGiB, monthly: count * (instance + volume) }];
    });
  });
  if (candidates.length === 0) throw new Error('cost model: a pod fits on no instance type the NodePools admit');
  return candidates.reduce((a, b) => (b.monthly < a.monthly ? b : a));
}

/** One node of `type` with a volume of `volumeGiB` a month: the instance with Auto Mode's fee, and its volume. */
function nodeMonthly(type: string, volumeGiB: number): { instance: number; volume: number } {
  return {
    instance: (EC2[type].perHour + autoModeFeePerHour(type)) * HOURS_PER_MONTH,
    volume: volumeGiB * PRICES.ebsGp3PerGiBMonth,
  };
}

/** GiB of the volume of a node of `pool`: its NodeClass's `ephemeralStorage.size` (Auto Mode's default 80 Gi when unset). */
export function nodeVolumeGiB(objects: any[], pool: any): number {
  const ref = pool.spec.template.spec.nodeClassRef;
  const nodeClass = objects.find(o => o.kind === 'NodeClass' && o.metadata?.name === ref?.name);
  if (!nodeClass) throw new Error(`cost model: NodePool ${pool.metadata.name} names NodeClass ${ref?.name}, which the stack does not apply`);
  const size: string = nodeClass.spec.ephemeralStorage?.size ?? '80Gi';
  const match = /^(\d+)Gi$/.exec(size);
  if (!match) throw new Error(`cost model: NodeClass ${ref.name}: ephemeralStorage.size ${size} is not in Gi`);
  return Number(match[1]);
}

/** CloudWatch Logs: what the log groups take in, and keep for their retention. */
function logLines(byId: Record<string, any>, assumptions: Assumptions): CostLine[] {
  const resources = Object.values<any>(byId);
  const lines: CostLine[] = [];
  const bill = (item: string, gib: number, retentionDays: number | undefined) => {
    // Never-expiring groups are billed for a year of logs (what a year-old stack holds).
    const months = Math.min((retentionDays ?? 365) / 30, 12);
    const monthly = gib * PRICES.logIngestionPerGiB + gib * months * PRICES.logStoragePerGiBMonth;
    if (monthly > 0) {
      lines.push({ item, basis: `${gib} GiB x ${PRICES.logIngestionPerGiB} + ${(gib * months).toFixed(1)} GiB kept x ${PRICES.logStoragePerGiBMonth}`, monthly });
    }
  };
  for (const flowLog of resources.filter(r => r.Type === 'AWS::EC2::FlowLog')) {
    const group = byId[flowLog.Properties.LogGroupName?.Ref];
    bill('VPC flow logs', assumptions.flowLogGiB, group?.Properties?.RetentionInDays);
  }
  for (const cluster of resources.filter(r => r.Type === 'AWS::EKS::Cluster')) {
    const types: string[] = (cluster.Properties.Logging?.ClusterLogging?.EnabledTypes ?? []).map((t: any) => t.Type);
    const gib = types.reduce((s, t) => s + (assumptions.controlPlaneLogGiB[t] ?? 0), 0);
    // EKS creates /aws/eks/<cluster>/cluster itself, without retention.
    if (types.length > 0) bill(`EKS control-plane logs (${types.join(', ')})`, gib, undefined);
  }
  bill('Other log groups (pods, Lambda)', assumptions.otherLogGiB, undefined);
  return lines;
}
