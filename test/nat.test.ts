import { Match } from 'aws-cdk-lib/assertions';
import { StackProfile } from '../lib';
import { synthReference } from './support/synth';

describe('egress: a NAT instance in DEVELOPMENT, NAT gateways in PRODUCTION', () => {
  const dev = synthReference(StackProfile.DEVELOPMENT).template;
  const prod = synthReference(StackProfile.PRODUCTION).template;

  test('DEVELOPMENT: one t4g.nano with IMDSv2, an encrypted gp3 volume and a public address; no gateway', () => {
    dev.resourceCountIs('AWS::EC2::NatGateway', 0);
    dev.resourceCountIs('AWS::EC2::EIP', 0);
    dev.resourceCountIs('AWS::EC2::Instance', 1);
    dev.hasResourceProperties('AWS::EC2::Instance', {
      InstanceType: 't4g.nano', SourceDestCheck: false, Monitoring: false, CreditSpecification: { CPUCredits: 'standard' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 8, DeleteOnTermination: true } }],
      NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true })],
      LaunchTemplate: Match.anyValue(),
    });
    dev.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } });
    // Each private subnet routes its default route through the instance.
    const routes = Object.values(dev.findResources('AWS::EC2::Route', { Properties: { DestinationCidrBlock: '0.0.0.0/0', InstanceId: Match.anyValue() } }));
    expect(routes).toHaveLength(2);
  });

  test('DEVELOPMENT: the instance admits the private subnets\' CIDRs only', () => {
    const groups = dev.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'Security Group for NAT instances' } });
    const [group] = Object.values(groups) as any[];
    const privateCidrs = Object.values(dev.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }))
      .map((s: any) => s.Properties.CidrBlock).sort();
    expect(privateCidrs).toHaveLength(2);
    expect(group.Properties.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.IpProtocol]).sort()).toEqual(privateCidrs.map(c => [c, '-1']));
  });

  test('PRODUCTION: one NAT gateway per zone and no instance', () => {
    prod.resourceCountIs('AWS::EC2::NatGateway', 2);
    prod.resourceCountIs('AWS::EC2::Instance', 0);
  });
});
