/**
 * What the stack is for. It sets every cost and availability default in one place: the AWS side
 * in lib/profile.ts, the Kubernetes side in each component's defaults. Any single default can
 * still be overridden through props.
 */
export enum StackProfile {
  /** Cheapest configuration that still works end to end: one NAT gateway, one replica, short retention. */
  DEVELOPMENT = 'development',
  /** Highly available: one NAT gateway per AZ, several replicas spread over zones, longer retention, deletion protection. */
  PRODUCTION = 'production',
}
