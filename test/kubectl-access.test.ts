import { StackProfile } from '../lib';
import { synthReference } from './support/synth';

// The kubectl provider's functions run with a security group and a role of the stack's own
// (lib/platform/kubectl-access.ts), so they need not wait for the cluster. These pin what they
// still must be able to do once it exists: reach the private API endpoint, describe the cluster,
// be admitted by its access entry, and have all of that in place before the first manifest.
describe('the kubectl provider, made beside the cluster', () => {
  const template = synthReference(StackProfile.DEVELOPMENT).template;
  const resources: Record<string, any> = template.toJSON().Resources;
  const idOf = (prefix: string) => {
    const ids = Object.keys(resources).filter(id => id.startsWith(prefix) && /^[0-9A-F]{8}$/.test(id.slice(prefix.length)));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  const group = idOf('PlatformKubectlAccessSecurityGroup');
  const role = idOf('PlatformKubectlAccessHandlerRole');
  const cluster = idOf('PlatformCluster');
  const functions = ['PlatformClusterKubectlProviderHandler', 'PlatformClusterKubectlProviderframeworkonEvent'].map(idOf);

  test('both functions run in its security group, which may only open HTTPS connections', () => {
    for (const fn of functions) {
      expect(resources[fn].Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [group, 'GroupId'] }]);
    }
    expect(resources[group].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    expect(resources[group].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('the control plane\'s security group (of the cluster\'s endpoint ENIs) admits that group on 443', () => {
    const controlPlane = idOf('PlatformClusterControlPlaneSecurityGroup');
    expect(resources[cluster].Properties.ResourcesVpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [controlPlane, 'GroupId'] }]);
    const rules = Object.values(resources).filter(r => r.Type === 'AWS::EC2::SecurityGroupIngress'
      && JSON.stringify(r.Properties.SourceSecurityGroupId) === JSON.stringify({ 'Fn::GetAtt': [group, 'GroupId'] }));
    expect(rules.map(r => [r.Properties.GroupId, r.Properties.IpProtocol, r.Properties.FromPort, r.Properties.ToPort]))
      .toEqual([[{ 'Fn::GetAtt': [controlPlane, 'GroupId'] }, 'tcp', 443, 443]]);
  });

  test('the handler runs as the role the access entry admits, which may describe this cluster only', () => {
    expect(resources[functions[0]].Properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    const entry = resources[idOf('PlatformClusterClusterAdminRoleAccess')];
    expect(entry.Properties.PrincipalArn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    const policies = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy'
      && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]));
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'eks:DescribeCluster', Effect: 'Allow', Resource: { 'Fn::GetAtt': [cluster, 'Arn'] } }]);
    // Every manifest and Helm release waits for the barrier, which waits for that policy.
    expect(resources[idOf('PlatformClusterKubectlReadyBarrier')].DependsOn).toEqual(expect.arrayContaining([policyId, cluster]));
  });

  test('the role carries what the function needs when it is created (VPC network interfaces) and what Helm pulls with', () => {
    const arns = JSON.stringify(resources[role].Properties.ManagedPolicyArns);
    for (const name of ['service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole',
      'AmazonEC2ContainerRegistryReadOnly', 'AmazonElasticContainerRegistryPublicReadOnly']) {
      expect(arns).toContain(`:iam::aws:policy/${name}"`);
    }
    expect(resources[role].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
  });
});
