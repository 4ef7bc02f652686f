import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { InvalidPropError } from '../../constructs/core/errors';
import { KUBERNETES_VERSION } from '../../constructs/versions';
import { GPU_SCHEDULING, GpuNodePoolOptions, GpuScheduling } from './gpu-node-pool';
import { KubectlAccess } from './kubectl-access';
import { completeNatInstances, natInstanceProvider } from './nat';
import { autoModeNodesChart, POD_SUBNETS } from './node-pool';
import { createDataKey } from '../core/buckets';
import { acknowledgeAt, awsSolutions, constructAt, managedPolicyFinding, wildcardFinding } from '../core/nag';
import { profileDefaults, resolveProfile, StackProfile } from '../core/profile';

/** Properties of an `MlopsCluster`. */
export interface MlopsClusterProps {
  /**
   * Sets the cost and availability defaults (NAT gateways, AZs, log retention).
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * Kubernetes minor version. Only the version whose kubectl layer the library ships is accepted,
   * because the kubectl provider must match the control plane.
   * @default '1.35'
   */
  readonly kubernetesVersion?: string;
  /**
   * Who can reach the Kubernetes API endpoint. The default keeps the endpoint inside the VPC: no
   * exposure to the internet, but `kubectl` must run from the VPC (VPN, SSM bastion, CI runner in
   * the VPC). Use `eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24')` to reach it
   * from known networks instead.
   * @default eks.EndpointAccess.PRIVATE
   */
  readonly endpointAccess?: eks.EndpointAccess;
  /**
   * ARN of an IAM role that gets cluster-admin through an EKS access entry.
   * @default - no human admin; the stack outputs how to add one
   */
  readonly adminRoleArn?: string;
  /**
   * An existing VPC with private subnets (with egress) to place the cluster in.
   * @default - a new VPC sized by the profile, with flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * A node pool of NVIDIA GPU instances, for models that ask for GPUs (`gpus`): tainted so nothing
   * else lands there, capped at `maxGpus`, with no node while no GPU pod runs.
   * @default - no GPU nodes; a model with `gpus` fails at synth
   */
  readonly gpuNodePool?: GpuNodePoolOptions;
}

const SUPPORTED_VERSIONS: Record<string, eks.KubernetesVersion> = {
  [KUBERNETES_VERSION]: eks.KubernetesVersion.V1_35,
};

/**
 * The EKS cluster the stack runs on: Kubernetes 1.35 in EKS Auto Mode (AWS runs the nodes, so
 * there is no node group to patch), every control-plane log type, envelope encryption of
 * Kubernetes Secrets with a rotating KMS key, and a private API endpoint by default.
 */
export class MlopsCluster extends Construct {
  /** The VPC the cluster runs in. */
  public readonly vpc: ec2.IVpc;
  /** The EKS cluster. */
  public readonly cluster: eks.Cluster;
  /** The KMS key that encrypts Kubernetes Secrets in etcd. */
  public readonly secretsKey: kms.Key;
  /**
   * NetworkPolicy enforcement and the node pool the workloads run on; anything with pods must
   * depend on it (a pod created earlier has no node to run on, or runs unenforced).
   */
  public readonly nodes: eks.KubernetesManifest;
  /** How GPU pods reach the GPU pool, when there is one. */
  public readonly gpuScheduling?: GpuScheduling;

  constructor(scope: Construct, id: string, props: MlopsClusterProps = {}) {
    super(scope, id);
    const defaults = profileDefaults(resolveProfile(props.profile));
    const versionName = props.kubernetesVersion ?? KUBERNETES_VERSION;
    const version = SUPPORTED_VERSIONS[versionName];
    if (!version) {
      throw new InvalidPropError(this, 'kubernetesVersion', versionName,
        `allowed: ${Object.keys(SUPPORTED_VERSIONS).join(', ')} (the versions whose kubectl layer this library ships)`);
    }

    this.vpc = props.vpc ?? this.createVpc(defaults.maxAzs, defaults.natGateways, defaults.natInstanceType, defaults.logRetention);

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: 'Envelope encryption of Kubernetes Secrets of the MLOps cluster',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const kubectl = new KubectlAccess(this, 'KubectlAccess', this.vpc);
    this.cluster = new eks.Cluster(this, 'Cluster', {
      version,
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      defaultCapacityType: eks.DefaultCapacityType.AUTOMODE,
      // Workloads run on the stack's own pool (see auto-mode-nodes.ts), where NetworkPolicy is enforced.
      compute: { nodePools: ['system'] },
      // Nobody is cluster-admin by accident: not the CloudFormation role forever (EKS's default, and
      // changing it later replaces the cluster). The kubectl provider has its own access entry;
      // people get in through adminRoleArn.
      bootstrapClusterCreatorAdminPermissions: false,
      endpointAccess: props.endpointAccess ?? eks.EndpointAccess.PRIVATE,
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: new KubectlV35Layer(this, 'KubectlLayer'), ...kubectl.providerOptions() },
    });
    kubectl.connect(this.cluster);

    this.acknowledgeFindings();

    // The node role of the built-in pool, which EKS already admits with an access entry of type EC2.
    // overwrite: apply rather than create, in case the ConfigMap was already applied by hand as the
    // EKS guide shows.
    const nodeRole = constructAt(this.cluster, 'ClusternodePoolRole') as iam.IRole;
    this.nodes = new eks.KubernetesManifest(this.cluster, 'Nodes', {
      cluster: this.cluster,
      manifest: autoModeNodesChart({
        nodeRoleName: nodeRole.roleName,
        subnetIds: this.vpc.selectSubnets(POD_SUBNETS).subnetIds,
        securityGroupId: this.cluster.clusterSecurityGroupId,
        volumeGiB: defaults.nodeVolumeGiB,
        gpu: props.gpuNodePool,
        scope: this,
      }).toJson(),
      overwrite: true,
    });

    this.gpuScheduling = props.gpuNodePool ? GPU_SCHEDULING : undefined;

    if (props.adminRoleArn) {
      this.cluster.grantClusterAdmin('Admin', props.adminRoleArn);
    }
    const region = Stack.of(this).region;
    new CfnOutput(this, 'UpdateKubeconfig', {
      description: props.adminRoleArn
        ? 'Configure kubectl (as the admin role)'
        : 'Configure kubectl; first grant your role access: aws eks create-access-entry + associate-access-policy, or redeploy with adminRoleArn',
      value: `aws eks update-kubeconfig --region ${region} --name ${this.cluster.clusterName}`,
    });
  }

  /** The findings cdk-nag reports on resources aws-eks-v2 creates for us, each with its reason. */
  private acknowledgeFindings(): void {
    const cluster = this.cluster;
    acknowledgeAt(cluster, 'Role/Resource',
      'EKS Auto Mode requires these AWS managed policies on the cluster role (EKS user guide, "Auto Mode cluster IAM role"); AWS keeps them in step with the features Auto Mode uses',
      ...['AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy',
        'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy'].map(managedPolicyFinding));
    acknowledgeAt(cluster, 'ClusternodePoolRole/Resource',
      'EKS Auto Mode nodes need the AWS managed worker-node and ECR read-only policies (EKS user guide, "Auto Mode node IAM role")',
      managedPolicyFinding('AmazonEKSWorkerNodePolicy'), managedPolicyFinding('AmazonEC2ContainerRegistryReadOnly'));
    const provider = 'KubectlProvider';
    acknowledgeAt(cluster, `${provider}/Handler/Resource`,
      'The kubectl handler runtime is pinned by aws-cdk-lib to the runtime its bundled handler is built and tested for; it moves with aws-cdk-lib upgrades',
      awsSolutions('L1'));
    acknowledgeAt(cluster, `${provider}/Provider/framework-onEvent/ServiceRole/Resource`,
      'Role of the custom-resource provider framework Lambda of the kubectl provider (created by aws-cdk-lib), which runs in the VPC',
      managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'),
      managedPolicyFinding('service-role/AWSLambdaVPCAccessExecutionRole'));
    acknowledgeAt(cluster, `${provider}/Provider/framework-onEvent/ServiceRole/DefaultPolicy/Resource`,
      'The provider framework may invoke any version of its own kubectl handler function (":*" is the version qualifier of that one function ARN)',
      wildcardFinding(cluster, `${provider}/Handler/Resource`, ':*'));
    acknowledgeAt(cluster, 'Resource',
      'aws-eks-v2 sets EncryptionConfig.Resources to ["secrets"], the value the EKS API still documents for envelope encryption with a customer managed key; the CloudFormation schema only marks it deprecated',
      'CloudFormation-Validate::W9009');
  }

  private createVpc(maxAzs: number, natGateways: number | undefined, natInstanceType: string | undefined, retention: logs.RetentionDays): ec2.Vpc {
    const natInstances = natInstanceType ? natInstanceProvider(natInstanceType) : undefined;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      natGateways,
      natGatewayProvider: natInstances,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // Large private subnets: Auto Mode gives every pod a VPC address.
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
    });
    if (natInstances) completeNatInstances(natInstances, vpc);
    // Flow logs show who talked to whom; they are encrypted with a key of the stack's own, usable
    // only by CloudWatch Logs for this account's log groups in this region.
    const flowLogKey = createDataKey(this, 'FlowLogsKey', `Encryption of the VPC flow logs of ${this.node.path}`);
    const { region, account, partition } = Stack.of(this);
    flowLogKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` } },
    }));
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention,
      encryptionKey: flowLogKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });
    return vpc;
  }
}

