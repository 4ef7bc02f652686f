import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { StackProfile } from '../constructs/core/profile';
import { ExternalSecrets } from './external-secrets';

/**
 * What every component on AWS takes from the platform it runs on (`MlopsStack` passes its own):
 * the cluster, its VPC, the secret path, the profile and the shared access-log bucket.
 */
export interface ComponentPlatformProps {
  /** The cluster the component runs on. */
  readonly cluster: eks.ICluster;
  /** The VPC of the cluster; databases and caches go in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** The secret path of the cluster; the component's credentials reach its pods through it. */
  readonly externalSecrets: ExternalSecrets;
  /**
   * Sets sizes, resilience, replicas and pod resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * Bucket for the S3 access logs of the component's buckets.
   * @default - a new access-log bucket
   */
  readonly accessLogsBucket?: s3.IBucket;
}
