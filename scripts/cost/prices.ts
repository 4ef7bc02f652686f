// Every price the cost model uses, in one place. List prices, us-east-1, on-demand, USD, as AWS's
// public pricing pages showed them when this table was written (date below). They are not fetched:
// the model runs offline, and a bill must not change because a page did. Check them against the
// pages before relying on a figure; a change is one edit here, and `npm run cost` shows its effect.

/** When the prices below were read, and where. */
export const PRICES_AS_OF = '2026-12 (us-east-1, on-demand, Linux, list prices without free tier or discounts)';

export const SOURCES: Record<string, string> = {
  eks: 'https://aws.amazon.com/eks/pricing/ (control plane, standard support; EKS Auto Mode management fee)',
  ec2: 'https://aws.amazon.com/ec2/pricing/on-demand/',
  ebs: 'https://aws.amazon.com/ebs/pricing/',
  vpc: 'https://aws.amazon.com/vpc/pricing/ (NAT gateway, public IPv4 addresses)',
  rds: 'https://aws.amazon.com/rds/postgresql/pricing/',
  elasticache: 'https://aws.amazon.com/elasticache/pricing/ (Valkey, node-based)',
  kms: 'https://aws.amazon.com/kms/pricing/',
  secrets: 'https://aws.amazon.com/secrets-manager/pricing/',
  cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/ (logs, vended logs, alarms, custom metrics)',
  s3: 'https://aws.amazon.com/s3/pricing/',
  ecr: 'https://aws.amazon.com/ecr/pricing/',
  elb: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
};

/** Hours in the month the model bills (AWS's own convention: 730). */
export const HOURS_PER_MONTH = 730;

/** An EC2 instance type a node pool may launch. */
export interface InstancePrice {
  readonly vcpu: number;
  readonly memoryGiB: number;
  /** On-demand USD per hour. */
  readonly perHour: number;
}

/**
 * The cheapest x86 types of each size in the c, m and r families of generation 5 and later (what
 * the stack's node pool admits); other types the pool admits cost more for the same shape. Graviton
 * types are for the NAT instance only.
 */
export const EC2: Record<string, InstancePrice> = {
  'c6a.large': { vcpu: 2, memoryGiB: 4, perHour: 0.0765 },
  'c5a.large': { vcpu: 2, memoryGiB: 4, perHour: 0.077 },
  'c6i.large': { vcpu: 2, memoryGiB: 4, perHour: 0.085 },
  'm5a.large': { vcpu: 2, memoryGiB: 8, perHour: 0.086 },
  'm6a.large': { vcpu: 2, memoryGiB: 8, perHour: 0.0864 },
  'm6i.large': { vcpu: 2, memoryGiB: 8, perHour: 0.096 },
  'r5a.large': { vcpu: 2, memoryGiB: 16, perHour: 0.113 },
  'r6a.large': { vcpu: 2, memoryGiB: 16, perHour: 0.1134 },
  'c6a.xlarge': { vcpu: 4, memoryGiB: 8, perHour: 0.153 },
  'm5a.xlarge': { vcpu: 4, memoryGiB: 16, perHour: 0.172 },
  'm6a.xlarge': { vcpu: 4, memoryGiB: 16, perHour: 0.1728 },
  'r6a.xlarge': { vcpu: 4, memoryGiB: 32, perHour: 0.2268 },
  'c6a.2xlarge': { vcpu: 8, memoryGiB: 16, perHour: 0.306 },
  'm6a.2xlarge': { vcpu: 8, memoryGiB: 32, perHour: 0.3456 },
  't4g.nano': { vcpu: 2, memoryGiB: 0.5, perHour: 0.0042 },
  't4g.micro': { vcpu: 2, memoryGiB: 1, perHour: 0.0084 },
};

export const PRICES = {
  /** EKS control plane, standard support, per cluster-hour. */
  eksClusterPerHour: 0.10,
  /**
   * EKS Auto Mode's management fee, per node-hour, as a share of the type's on-demand price: the
   * per-type fees AWS lists come to 12 % of the on-demand price for the types above.
   */
  autoModeFeeShare: 0.12,
  /** gp3, per GiB-month (Auto Mode node volumes, NAT instance root volume). */
  ebsGp3PerGiBMonth: 0.08,
  natGatewayPerHour: 0.045,
  natGatewayPerGiB: 0.045,
  publicIpv4PerHour: 0.005,
  /** RDS for PostgreSQL, Single-AZ, per instance-hour; Multi-AZ (one standby) is twice. */
  rdsPerHour: { 'db.t4g.micro': 0.016, 'db.t4g.small': 0.032, 'db.t4g.medium': 0.065, 'db.m7g.large': 0.168 } as Record<string, number>,
  /** RDS gp2/gp3 storage, per GiB-month, Single-AZ (Multi-AZ twice). */
  rdsStoragePerGiBMonth: 0.115,
  /** ElastiCache for Valkey, per node-hour (20 % below Redis OSS). */
  valkeyPerNodeHour: { 'cache.t4g.micro': 0.0128, 'cache.t4g.small': 0.0256, 'cache.m7g.large': 0.1264 } as Record<string, number>,
  /** KMS customer managed key, per month (key rotation adds to this from the first rotation). */
  kmsKeyPerMonth: 1.0,
  secretPerMonth: 0.40,
  secretApiPer10k: 0.05,
  /** CloudWatch Logs (and vended logs such as flow logs, first tier) ingestion, per GiB. */
  logIngestionPerGiB: 0.50,
  /** CloudWatch Logs storage, per GiB-month (billed compressed; the model does not compress). */
  logStoragePerGiBMonth: 0.03,
  alarmPerMonth: 0.10,
  customMetricPerMonth: 0.30,
  s3StandardPerGiBMonth: 0.023,
  ecrPerGiBMonth: 0.10,
  albPerHour: 0.0225,
  albLcuPerHour: 0.008,
};

/** Auto Mode's fee for one node-hour of `type`. */
export function autoModeFeePerHour(type: string): number {
  return EC2[type].perHour * PRICES.autoModeFeeShare;
}
