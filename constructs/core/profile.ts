/**
 * What the stack is for. It sets every cost and availability default: the platform's and the
 * databases' in lib/core/profile.ts, each component's in constructs/<component>/defaults.ts. Any
 * single default can still be overridden through props.
 */
export enum StackProfile {
  /** Cheapest configuration that still works end to end: one NAT gateway, one replica, short retention. */
  DEVELOPMENT = 'development',
  /** Highly available: one NAT gateway per AZ, several replicas spread over zones, longer retention, deletion protection. */
  PRODUCTION = 'production',
}

/** The profile of a construct given none: DEVELOPMENT, the cheap one. */
export function resolveProfile(profile?: StackProfile): StackProfile {
  return profile ?? StackProfile.DEVELOPMENT;
}
