import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * `<stack name>-<id>`, lowercased and made of letters, digits and single hyphens, starting with a
 * letter, at most `maxLength` characters (long names keep a hash so they stay unique). For the
 * fixed names of stateful resources (RDS instances, ElastiCache replication groups): with a fixed
 * name, a change CloudFormation could only make by replacing the resource fails ("already
 * exists") instead of silently swapping in a new, empty one.
 */
export function stableIdentifier(scope: Construct, id: string, maxLength: number): string {
  const raw = `${Stack.of(scope).stackName}-${id}`.toLowerCase();
  let name = raw.replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  if (name.length > maxLength) {
    name = `${name.slice(0, maxLength - 9).replace(/-+$/, '')}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
  }
  return name;
}
