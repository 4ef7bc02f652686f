import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeAt, awsSolutions, constructAt, logicalIdAt, managedPolicyFinding } from '../core/nag';

/** The AWS managed policies aws-eks-v2 gives its own kubectl handler role (ECR Public apart, below). */
const HANDLER_MANAGED_POLICIES = ['service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole', 'AmazonEC2ContainerRegistryReadOnly'];

/**
 * The network and IAM identity of the kubectl provider's two Lambda functions, made before the
 * cluster so that the functions are created while the cluster is.
 *
 * With aws-eks-v2's defaults both functions run in the cluster security group (which EKS creates
 * with the cluster) and the handler's role names the cluster's ARN in the policy the function
 * waits for, so the functions, and every manifest and Helm release after them, start only once
 * the cluster exists: about 3 minutes on the first deploy. Here they run in a security group of
 * their own that the control plane's security group admits on 443, and the one statement that
 * names the cluster is a policy of its own that the functions do not wait for; the kubectl-ready
 * barrier, which every manifest waits for, does.
 */
export class KubectlAccess extends Construct {
  /** Security group of the kubectl provider's functions. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** Execution role of the kubectl handler (the identity the cluster's access entry admits). */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, vpc: ec2.IVpc) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'kubectl provider functions: HTTPS to the cluster API, Helm chart repositories and AWS APIs',
      allowAllOutbound: false,
    });
    // Helm pulls charts from their public repositories through the NAT; DNS to the VPC resolver
    // is not filtered by security groups.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: cluster API, Helm repositories, AWS APIs');
    this.role = new iam.Role(this, 'HandlerRole', {
      description: 'kubectl handler of the EKS cluster: applies the stack\'s manifests and Helm releases',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: HANDLER_MANAGED_POLICIES.map(name => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    acknowledgeAt(this, 'HandlerRole/Resource',
      'The kubectl handler runs in the VPC to reach the private API endpoint and pulls OCI Helm charts from ECR, which these AWS managed policies cover (the same policies aws-eks-v2 gives its own handler role)',
      ...HANDLER_MANAGED_POLICIES.map(managedPolicyFinding));
  }

  /**
   * For `kubectlProviderOptions`: the role as an immutable import, so that aws-eks-v2 adds nothing
   * to it (its statement names the cluster and would make the function wait for it).
   */
  public providerOptions(): { role: iam.IRole; securityGroups: ec2.ISecurityGroup[] } {
    return {
      role: iam.Role.fromRoleArn(this, 'ImportedHandlerRole', this.role.roleArn, { mutable: false }),
      securityGroups: [this.securityGroup],
    };
  }

  /** What needs the cluster: the control plane admits the functions, the handler may describe it. */
  public connect(cluster: eks.Cluster): void {
    const controlPlane = constructAt(cluster, 'ControlPlaneSecurityGroup') as ec2.SecurityGroup;
    controlPlane.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'kubectl provider functions');
    const describe = new iam.Policy(this, 'DescribeCluster', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [cluster.clusterArn] })],
    });
    constructAt(cluster, 'KubectlReadyBarrier').node.addDependency(describe);
    // aws-eks-v2 adds ECR Public read access where the partition has ECR Public; the condition
    // it made for that (beside the imported role) is reused rather than repeated.
    const ecrPublicArn = { 'Fn::If': [logicalIdAt(this, 'HasEcrPublic'),
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly']] },
      { Ref: 'AWS::NoValue' }] };
    this.role.addManagedPolicy(iam.ManagedPolicy.fromManagedPolicyArn(this, 'EcrPublicReadOnly', Token.asString(ecrPublicArn)));
    acknowledgeAt(this, 'HandlerRole/Resource',
      'Where the partition has ECR Public, the kubectl handler pulls public OCI Helm charts with this AWS managed policy (as aws-eks-v2 grants its own handler role)',
      awsSolutions(`IAM4[Policy::${JSON.stringify(ecrPublicArn)}]`));
  }
}
