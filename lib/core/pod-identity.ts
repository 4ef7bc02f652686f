import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { assertDnsLabel } from '../../constructs/core/errors';

/** Properties of a `PodIdentityRole`. */
export interface PodIdentityRoleProps {
  /** The cluster whose pods assume the role. */
  readonly cluster: eks.ICluster;
  /** Namespace of the Kubernetes ServiceAccount. */
  readonly namespace: string;
  /** Name of the Kubernetes ServiceAccount (created by the component's chart, not here). */
  readonly serviceAccount: string;
  /**
   * Description of the role, shown in IAM.
   * @default - "Pod identity of <namespace>/<serviceAccount>"
   */
  readonly description?: string;
}

/**
 * An IAM role that exactly one Kubernetes ServiceAccount assumes through EKS Pod Identity.
 *
 * Every component gets its AWS permissions through one of these: grant to `role` (or use the
 * construct itself as the grantee) and nothing else in the cluster receives them. The Kubernetes
 * ServiceAccount itself is created by the component's cdk8s chart or Helm chart, so the same
 * chart also works on clusters that are not on AWS.
 */
export class PodIdentityRole extends Construct implements iam.IGrantable {
  /** The role pods of the ServiceAccount receive. */
  public readonly role: iam.Role;
  /** The association between the role and the ServiceAccount. */
  public readonly association: eks.CfnPodIdentityAssociation;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    assertDnsLabel(this, 'namespace', props.namespace);
    assertDnsLabel(this, 'serviceAccount', props.serviceAccount);

    // The trust policy pins the cluster, namespace and ServiceAccount through the session tags EKS
    // Pod Identity sets (EKS user guide, "pod-id-role"), so an association made for another
    // ServiceAccount or cluster in the account cannot use this role. The cluster is pinned by ARN:
    // a name is unique only per region, so a same-named cluster elsewhere must not match.
    this.role = new iam.Role(this, 'Role', {
      description: props.description ?? `Pod identity of ${props.namespace}/${props.serviceAccount}`,
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({
        StringEquals: {
          'aws:SourceAccount': Stack.of(this).account,
          'aws:RequestTag/kubernetes-namespace': props.namespace,
          'aws:RequestTag/kubernetes-service-account': props.serviceAccount,
          'aws:RequestTag/eks-cluster-arn': props.cluster.clusterArn,
        },
      })),
    });
    this.grantPrincipal = this.role;

    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.cluster.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.roleArn,
    });
  }
}
