import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct, IDependable } from 'constructs';
import { ComponentNamespace } from '../../constructs/core/namespace';
import { resolveProfile, StackProfile } from '../../constructs/core/profile';
import { createAccessLogsBucket } from './buckets';
import { GpuScheduling } from '../platform/gpu-node-pool';

/**
 * The path by which a component's secrets reach its pods (the stack's `ExternalSecrets`): each
 * namespace has a store of its own, an ExternalSecret is applied after its namespace's store, and
 * the store reads exactly the secrets granted to that namespace.
 */
export interface ISecretDelivery {
  /** What the ExternalSecrets of `namespace` must be applied after: the manifest of its store (served from now on). */
  storeFor(namespace: string): IDependable;
  /** Lets ExternalSecrets in `namespace` read `secret` (and decrypt it, if it uses a customer managed key). */
  grantRead(secret: secretsmanager.ISecret, namespace: string): iam.Grant;
  /** Gives `namespace` a store its ExternalSecrets can use. */
  serveNamespace(namespace: string): void;
}

/**
 * What every component on AWS takes from the platform it runs on. `MlopsStack` builds one and
 * passes it to each component; a user's app builds its own from its cluster.
 */
export interface ComponentPlatform {
  /** The cluster the component runs on. */
  readonly cluster: eks.ICluster;
  /** The VPC of the cluster; databases and caches go in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** The secret path of the cluster; the component's credentials reach its pods through it. */
  readonly secrets: ISecretDelivery;
  /**
   * Sets sizes, resilience, replicas and pod resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * What a component's pods must be applied after: the node pool whose nodes enforce NetworkPolicy.
   * @default - nothing
   */
  readonly nodes?: IDependable;
  /**
   * Bucket for the S3 access logs of the component's buckets.
   * @default - a new access-log bucket per component, keeping logs `ACCESS_LOG_RETENTION_DAYS`
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * How pods reach the cluster's GPU nodes (`MlopsCluster.gpuScheduling`); models that ask for
   * GPUs get it unless they name their own node selector.
   * @default - no GPU nodes
   */
  readonly gpuScheduling?: GpuScheduling;
}

/** Days S3 server access logs are kept in an access-log bucket the stack creates. */
export const ACCESS_LOG_RETENTION_DAYS = 365;

/** A platform's optional parts, resolved for one component. */
export interface ResolvedPlatform {
  readonly profile: StackProfile;
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * The profile (DEVELOPMENT when unset) and the access-log bucket (a new one in `scope` when the
 * platform has none) of `platform`. Call it after `useBucketPolicyForAccessLogs(scope)`.
 */
export function resolvePlatform(scope: Construct, platform: Pick<ComponentPlatform, 'profile' | 'accessLogsBucket'>): ResolvedPlatform {
  return {
    profile: resolveProfile(platform.profile),
    accessLogsBucket: platform.accessLogsBucket ?? createAccessLogsBucket(scope, 'AccessLogs', ACCESS_LOG_RETENTION_DAYS),
  };
}

/** Options of `addComponentNamespaces`. */
export interface ComponentNamespaceOptions {
  /**
   * Serve the namespaces from the platform's secret store (for components whose pods get secrets).
   * @default true
   */
  readonly secrets?: boolean;
}

/**
 * Namespaces of components, applied as one manifest `id` on the platform's cluster: each Pod
 * Security "restricted" with default-deny ingress (`ComponentNamespace`), and served by the
 * platform's secret store unless `options.secrets` is false. A component calls it once for its own
 * namespace; the manifest's id must never change (replacing a namespace manifest deletes its
 * namespaces, and everything in them, after the new one has created them).
 *
 * Pods must land on the node pool that enforces NetworkPolicy. Served namespaces get their pods
 * after the secret store, which comes after the pool, so the namespace itself is made beside the
 * pool and the deploy chain stays short; a namespace without secrets waits for the pool itself.
 */
export function addComponentNamespaces(
  platform: ComponentPlatform, id: string, namespaces: { [component: string]: string }, options: ComponentNamespaceOptions = {},
): eks.KubernetesManifest {
  const chart = new cdk8s.Chart(new cdk8s.App(), id);
  for (const [component, namespace] of Object.entries(namespaces)) {
    new ComponentNamespace(chart, component, namespace);
    if (options.secrets ?? true) platform.secrets.serveNamespace(namespace);
  }
  const manifest = platform.cluster.addCdk8sChart(id, chart);
  if (!(options.secrets ?? true) && platform.nodes) manifest.node.addDependency(platform.nodes);
  return manifest;
}
