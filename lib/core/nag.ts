import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Prefix cdk-nag's AwsSolutions pack gives its rule ids in `Validations.acknowledge`. */
const AWS_SOLUTIONS = 'AwsSolutions::AwsSolutions-';

/** A cdk-nag AwsSolutions finding id, e.g. `IAM5[Resource::<Bucket.Arn>/dvc/*]`. */
export function awsSolutions(rule: string): string {
  return `${AWS_SOLUTIONS}${rule}`;
}

/** The IAM4 finding id of an AWS managed policy, as cdk-nag renders it. */
export function managedPolicyFinding(policyName: string): string {
  return awsSolutions(`IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`);
}

/**
 * Acknowledges findings on the construct at `path` below `scope` (the L1 resource, the narrowest
 * scope there is). A missing path throws, so an upgrade that moves a resource cannot silently
 * leave a finding unacknowledged or an acknowledgement dangling.
 */
export function acknowledgeAt(scope: IConstruct, path: string, reason: string, ...ids: string[]): void {
  Validations.of(constructAt(scope, path)).acknowledge(...ids.map(id => ({ id, reason })));
}

/** The construct at `path` below `scope`; throws when there is none. */
export function constructAt(scope: IConstruct, path: string): IConstruct {
  let target: IConstruct = scope;
  for (const part of path.split('/').filter(p => p)) {
    const child = target.node.tryFindChild(part);
    if (!child) throw new Error(`no construct '${path}' below ${scope.node.path}`);
    target = child;
  }
  return target;
}

/** Logical ID of the CloudFormation element at `path` below `scope`, as cdk-nag quotes it. */
export function logicalIdAt(scope: IConstruct, path: string): string {
  return Stack.of(scope).getLogicalId(constructAt(scope, path) as CfnElement);
}

/**
 * The IAM5 finding id of a wildcard resource that extends the ARN of the element at `path` below
 * `scope` by `suffix` (e.g. `/dvc/*` for objects under a prefix, `:*` for a function's versions).
 */
export function wildcardFinding(scope: IConstruct, path: string, suffix: string): string {
  return awsSolutions(`IAM5[Resource::<${logicalIdAt(scope, path)}.Arn>${suffix}]`);
}

/** The IAM5 finding id of objects under `prefix` of a bucket known only by its name (imported, not in the stack). */
export function bucketNameWildcardFinding(bucketName: string, prefix: string): string {
  return awsSolutions(`IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/${prefix}/*]`);
}

/** The IAM5 finding id of an action granted on every resource (`*`), for actions with no resource type. */
export const ANY_RESOURCE_FINDING = awsSolutions('IAM5[Resource::*]');
