import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { InvalidPropError } from '../constructs/core/errors';
import { StackProfile } from '../constructs/core/profile';

export { StackProfile };

/** The cost and availability defaults a `StackProfile` implies. */
export interface ProfileDefaults {
  /** NAT gateways in the VPC; `undefined` means one per availability zone. */
  readonly natGateways?: number;
  /** Availability zones the VPC spans. */
  readonly maxAzs: number;
  /** Retention of VPC flow logs and other operational logs. */
  readonly logRetention: RetentionDays;
  /** Days after which noncurrent object versions in data buckets expire. */
  readonly noncurrentVersionExpiration: Duration;
  /** Whether databases and other deletable stateful resources refuse deletion. */
  readonly deletionProtection: boolean;
}

const DEFAULTS: Record<StackProfile, ProfileDefaults> = {
  [StackProfile.DEVELOPMENT]: {
    natGateways: 1,
    maxAzs: 2,
    logRetention: RetentionDays.ONE_MONTH,
    noncurrentVersionExpiration: Duration.days(90),
    deletionProtection: false,
  },
  [StackProfile.PRODUCTION]: {
    natGateways: undefined,
    maxAzs: 3,
    logRetention: RetentionDays.ONE_YEAR,
    noncurrentVersionExpiration: Duration.days(90),
    deletionProtection: true,
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
