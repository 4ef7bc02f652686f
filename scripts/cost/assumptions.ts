// Usage no template states. Each is named so a user can put their own figure in its place:
//   npm run cost -- --assume natTrafficGiB=200 --assume s3GiB=500

export interface Assumptions {
  /** GiB a month that leave the VPC through NAT (image pulls, PyPI, AWS APIs without endpoints). */
  readonly natTrafficGiB: number;
  /** GiB a month of VPC flow logs (all traffic of an idle-to-light cluster). */
  readonly flowLogGiB: number;
  /** GiB a month each EKS control-plane log type writes, by type (`audit` dominates). */
  readonly controlPlaneLogGiB: Record<string, number>;
  /** GiB a month the pods' and Lambda functions' own log groups take in. */
  readonly otherLogGiB: number;
  /** GiB stored in S3 across the stack's buckets (data, artifacts, logs, reports). */
  readonly s3GiB: number;
  /** GiB of each container image the stack builds and keeps in ECR. */
  readonly imageGiB: number;
  /** ALB load-balancer capacity units used on average, per load balancer. */
  readonly albLcus: number;
  /** Pods per node the kubelet reserves memory for (Auto Mode's prefix delegation allows 110). */
  readonly maxPodsPerNode: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  natTrafficGiB: 20,
  flowLogGiB: 2,
  controlPlaneLogGiB: { api: 1, audit: 4, authenticator: 0.5, controllerManager: 1, scheduler: 0.5 },
  otherLogGiB: 0.5,
  s3GiB: 50,
  imageGiB: 1,
  albLcus: 1,
  maxPodsPerNode: 110,
};

/** `DEFAULT_ASSUMPTIONS` with `name=value` overrides (`controlPlaneLogGiB.audit=10` for one log type). */
export function withOverrides(base: Assumptions, overrides: string[]): Assumptions {
  const result: any = structuredClone(base);
  for (const override of overrides) {
    const match = /^([A-Za-z]+)(?:\.([A-Za-z]+))?=([0-9.]+)$/.exec(override);
    const known = match && match[1] in result && (match[2] === undefined ? typeof result[match[1]] === 'number' : match[2] in result[match[1]]);
    if (!match || !known) {
      throw new Error(`--assume ${override}: expected name=number, name one of ${describeNames(base).join(', ')}`);
    }
    const [, name, key, value] = match;
    if (key) result[name][key] = Number(value);
    else result[name] = Number(value);
  }
  return result;
}

function describeNames(base: Assumptions): string[] {
  return Object.entries(base).flatMap(([name, value]) =>
    typeof value === 'number' ? [name] : Object.keys(value).map(key => `${name}.${key}`));
}
