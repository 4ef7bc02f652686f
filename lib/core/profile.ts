import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { InvalidPropError } from '../../constructs/core/errors';
import { StackProfile } from '../../constructs/core/profile';

export { resolveProfile, StackProfile } from '../../constructs/core/profile';

/** The cost and availability defaults a `StackProfile` implies. */
export interface ProfileDefaults {
  /** NAT gateways (or instances) in the VPC; `undefined` means one per availability zone. */
  readonly natGateways?: number;
  /** Instance type of NAT instances in place of NAT gateways; `undefined` means gateways (lib/platform/nat.ts). */
  readonly natInstanceType?: string;
  /** Availability zones the VPC spans. */
  readonly maxAzs: number;
  /** Retention of VPC flow logs and other operational logs. */
  readonly logRetention: RetentionDays;
  /** Size of each workload node's volume (images, container layers, logs, emptyDir), GiB. */
  readonly nodeVolumeGiB: number;
  /** Whether databases and other deletable stateful resources refuse deletion. */
  readonly deletionProtection: boolean;
  /** PostgreSQL databases of the components (MLflow, later Dagster). */
  readonly database: DatabaseDefaults;
}

/** Sizing and resilience of a component's PostgreSQL database. */
export interface DatabaseDefaults {
  /** Instance class, e.g. `t4g.micro`. */
  readonly instanceType: string;
  /** Standby in a second AZ with automatic failover. */
  readonly multiAz: boolean;
  /** Days of automated backups (point-in-time recovery window). */
  readonly backupRetentionDays: number;
  /** Performance Insights (7 days of history, free tier). */
  readonly performanceInsights: boolean;
  /** Initial storage; storage autoscaling grows it up to ten times this. */
  readonly allocatedStorageGiB: number;
  /** Seconds between Enhanced Monitoring samples (OS metrics); 0 turns it off. */
  readonly monitoringIntervalSeconds: number;
}

const DEFAULTS: Record<StackProfile, ProfileDefaults> = {
  [StackProfile.DEVELOPMENT]: {
    natGateways: 1,
    // USD 3 a month against 33 for a gateway; the trade-off is in lib/platform/nat.ts.
    natInstanceType: 't4g.nano',
    maxAzs: 2,
    logRetention: RetentionDays.ONE_MONTH,
    // Half of Auto Mode's 80 GiB default (USD 3.20 a month less per node): the stack's images
    // unpack to about 15 GiB, so the kubelet's image garbage collection (at 85 %) has room.
    nodeVolumeGiB: 40,
    deletionProtection: false,
    // The smallest Graviton class; PostgreSQL and MLflow's schema fit easily.
    database: { instanceType: 't4g.micro', multiAz: false, backupRetentionDays: 1, performanceInsights: false, allocatedStorageGiB: 20,
      // Enhanced Monitoring bills CloudWatch Logs ingestion; basic RDS metrics suffice here.
      monitoringIntervalSeconds: 0 },
  },
  [StackProfile.PRODUCTION]: {
    natGateways: undefined,
    maxAzs: 3,
    logRetention: RetentionDays.ONE_YEAR,
    // Auto Mode's default: room for the images of models teams add.
    nodeVolumeGiB: 80,
    deletionProtection: true,
    // Non-burstable, so sustained logging load is not throttled by CPU credits.
    database: { instanceType: 'm7g.large', multiAz: true, backupRetentionDays: 14, performanceInsights: true, allocatedStorageGiB: 50,
      // OS-level metrics (memory, swap, per-process CPU) that basic CloudWatch metrics lack.
      monitoringIntervalSeconds: 60 },
  },
};

/** The defaults of one profile. */
export function profileDefaults(profile: StackProfile): ProfileDefaults {
  return DEFAULTS[profile];
}

/**
 * The profile named by `value` (e.g. the `profile` context of the reference app).
 * @param value the profile name; `undefined` means DEVELOPMENT
 * @param source what supplied the value, for the error message
 */
export function parseProfile(value: unknown, source: string): StackProfile {
  if (value === undefined) return StackProfile.DEVELOPMENT;
  const profile = Object.values(StackProfile).find(p => p === value);
  if (!profile) {
    throw new InvalidPropError(source, 'profile', value, `allowed: ${Object.values(StackProfile).join(', ')}`);
  }
  return profile;
}
