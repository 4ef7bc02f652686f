import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeAt, awsSolutions, bucketNameWildcardFinding, wildcardFinding } from './nag';
import { PodIdentityRole, PodIdentityRoleProps } from './pod-identity';

/**
 * The buckets of the stack that hold data (DVC remote, MLflow artifacts, ...) are built here, so
 * they share one hardened shape: versioned, encrypted, private, TLS 1.2+ only, access-logged,
 * owner-enforced and retained when the stack or the construct goes away.
 */

/** Options of `createDataBucket`. */
export interface DataBucketOptions {
  /** Bucket name; generated when unset. */
  readonly bucketName?: string;
  /** Customer managed key for SSE-KMS; SSE-S3 when unset. */
  readonly encryptionKey?: kms.IKey;
  /** Where server access logs go. */
  readonly accessLogsBucket: s3.IBucket;
  /** Key prefix of this bucket's access logs. */
  readonly accessLogsPrefix: string;
  /** Days after which noncurrent versions are deleted; kept forever when unset. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days after which objects expire (logs, not data); kept forever when unset. */
  readonly expirationDays?: number;
}

const ACCESS_LOGS_BY_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

/**
 * Makes buckets below `scope` receive access logs under a bucket policy, not the legacy
 * LogDeliveryWrite ACL, whatever the user's cdk.json says. Context can only be set before a
 * construct has children, so call it first in the constructor of a construct with data buckets.
 */
export function useBucketPolicyForAccessLogs(scope: Construct): void {
  if (scope.node.tryGetContext(ACCESS_LOGS_BY_POLICY) !== true) scope.node.setContext(ACCESS_LOGS_BY_POLICY, true);
}

function assertBucketPolicyForAccessLogs(scope: Construct): void {
  if (scope.node.tryGetContext(ACCESS_LOGS_BY_POLICY) !== true) {
    throw new Error(`${scope.node.path}: call useBucketPolicyForAccessLogs(this) at the start of the constructor`);
  }
}

/** A bucket that receives S3 server access logs, kept for `retentionDays`. */
export function createAccessLogsBucket(scope: Construct, id: string, retentionDays: number): s3.Bucket {
  assertBucketPolicyForAccessLogs(scope);
  return new s3.Bucket(scope, id, {
    // S3 server access logging can only deliver to SSE-S3 buckets.
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ expiration: Duration.days(retentionDays) }],
  });
}

/** A hardened, retained, versioned bucket for data. */
export function createDataBucket(scope: Construct, id: string, options: DataBucketOptions): s3.Bucket {
  assertBucketPolicyForAccessLogs(scope);
  const kmsKey = options.encryptionKey;
  return new s3.Bucket(scope, id, {
    bucketName: options.bucketName,
    versioned: true,
    encryption: kmsKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: kmsKey,
    // One data key per bucket instead of one KMS call per object.
    bucketKeyEnabled: kmsKey !== undefined,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: options.accessLogsBucket,
    serverAccessLogsPrefix: options.accessLogsPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(options.expirationDays !== undefined
        ? [{ id: 'expire-objects', expiration: Duration.days(options.expirationDays) }]
        : []),
      ...(options.noncurrentVersionExpirationDays !== undefined
        ? [{ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(options.noncurrentVersionExpirationDays) }]
        : []),
    ],
  });
}

/** A retained, rotating customer managed key for one data bucket. */
export function createDataKey(scope: Construct, id: string, description: string): kms.Key {
  return new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
}

/** What `prefixAccessStatements` grants. */
export interface PrefixAccess {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /** The bucket's customer managed key, if any. */
  readonly encryptionKey?: kms.IKey;
  /** Key prefix the object actions are limited to. */
  readonly prefix: string;
  /** Whether to allow put and delete as well as get. */
  readonly write: boolean;
  /** Also read object versions (and list them). */
  readonly versions?: boolean;
  /**
   * Only put objects (multipart uploads included): no list, get or delete, whatever `write` says.
   * For writers of logs that never read back what they wrote.
   */
  readonly putOnly?: boolean;
}

/**
 * Statements for object access under one prefix: list the bucket, get (and put/delete) objects
 * under the prefix, and use the key through S3 only. ListBucket is not narrowed by an s3:prefix
 * condition: without unconditional ListBucket, S3 answers a HEAD of a missing key with 403
 * instead of 404, which S3 clients (DVC, MLflow's boto3) report as "Forbidden". Our data buckets
 * are dedicated to one component, so listing reveals nothing else.
 */
export function prefixAccessStatements(access: PrefixAccess): iam.PolicyStatement[] {
  if (access.putOnly) return putOnlyStatements(access);
  const statements = [
    new iam.PolicyStatement({
      actions: access.versions ? ['s3:ListBucket', 's3:ListBucketVersions'] : ['s3:ListBucket'],
      resources: [access.bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      actions: [
        's3:GetObject',
        ...(access.versions ? ['s3:GetObjectVersion'] : []),
        ...(access.write ? ['s3:PutObject', 's3:DeleteObject'] : []),
      ],
      resources: [access.bucket.arnForObjects(`${access.prefix}/*`)],
    }),
  ];
  if (access.encryptionKey) statements.push(keyThroughService('s3', access.bucket, access.encryptionKey, access.write ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']));
  return statements;
}

/**
 * Use of `key` by an AWS service (`s3`, `secretsmanager`) of `scope`'s region on the grantee's
 * behalf only (kms:ViaService), never directly.
 */
export function keyThroughService(service: string, scope: IConstruct, key: kms.IKey, actions: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions,
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(scope).region}.amazonaws.com` } },
  });
}

function putOnlyStatements(access: PrefixAccess): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [access.bucket.arnForObjects(`${access.prefix}/*`)] }),
    ...(access.encryptionKey ? [keyThroughService('s3', access.bucket, access.encryptionKey, ['kms:GenerateDataKey', 'kms:Decrypt'])] : []),
  ];
}

/**
 * The cdk-nag finding id (AwsSolutions-IAM5) of the object wildcard `prefixAccessStatements`
 * grants, for acknowledging it on the policy that holds it: by the bucket's logical ID, or for a
 * bucket imported by name, by its ARN. A bucket imported by a name only known at deploy time has
 * neither, so its finding is the rule's.
 */
export function prefixWildcardFinding(bucket: s3.IBucket, prefix: string): string {
  if (bucket instanceof s3.Bucket) return wildcardFinding(bucket, 'Resource', `/${prefix}/*`);
  if (!Token.isUnresolved(bucket.bucketName)) return bucketNameWildcardFinding(bucket.bucketName, prefix);
  return awsSolutions('IAM5');
}

/**
 * Grants `grantee` object access under one prefix (`prefixAccessStatements`) and acknowledges the
 * one cdk-nag finding that creates, the prefix's object wildcard, with `reason`, on the default
 * policy of the role that receives it: the narrowest scope, so no other wildcard is excused.
 */
export function grantPrefixAccess(grantee: iam.IGrantable, access: PrefixAccess, reason: string): iam.Grant {
  const grant = grantStatements(grantee, prefixAccessStatements(access));
  const role = grantee.grantPrincipal;
  if (!(role instanceof iam.Role)) {
    throw new Error(`grantPrefixAccess: ${grantee.grantPrincipal} is not a role of this app, so its policy cannot carry the acknowledgement`);
  }
  acknowledgeAt(role, 'DefaultPolicy/Resource', reason, prefixWildcardFinding(access.bucket, access.prefix));
  return grant;
}

/** A bucket prefix the model pods may read models from (KServe's model sources; MLflow's artifact store is one). */
export interface ModelSource {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /**
   * Its customer managed key (the role gets kms:Decrypt through S3 only).
   * @default - SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
  /** Key prefix the models are under; each model's role is granted its own directory below it. */
  readonly prefix: string;
}

/** What `grantObjectRead` grants: one object, by its exact key. */
export interface ObjectAccess {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /** The bucket's customer managed key, if any. */
  readonly encryptionKey?: kms.IKey;
  /** The object's key. */
  readonly key: string;
}

/**
 * Lets `grantee` read one object (and list the bucket, for the 404 `prefixAccessStatements`
 * explains). No wildcard, so no cdk-nag finding to acknowledge.
 */
export function grantObjectRead(grantee: iam.IGrantable, access: ObjectAccess): iam.Grant {
  return grantStatements(grantee, [
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [access.bucket.bucketArn] }),
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [access.bucket.arnForObjects(access.key)] }),
    ...(access.encryptionKey ? [keyThroughService('s3', access.bucket, access.encryptionKey, ['kms:Decrypt'])] : []),
  ]);
}

/** Adds `statements` to `grantee`'s policy and returns the combined grant. */
export function grantStatements(grantee: iam.IGrantable, statements: iam.PolicyStatement[]): iam.Grant {
  return statements
    .map(statement => iam.Grant.addToPrincipal({
      grantee,
      actions: statement.actions,
      resourceArns: statement.resources,
      conditions: statement.conditions,
    }))
    .reduce((a, b) => a.combine(b));
}

/**
 * A component's pod identity with object access under bucket prefixes and nothing else: the role
 * one ServiceAccount of the component assumes, and the grant of each `access` (`grantPrefixAccess`).
 */
export function prefixPodIdentity(scope: Construct, id: string, role: PodIdentityRoleProps, reason: string, ...accesses: PrefixAccess[]): PodIdentityRole {
  const identity = new PodIdentityRole(scope, id, role);
  for (const access of accesses) grantPrefixAccess(identity, access, reason);
  return identity;
}
