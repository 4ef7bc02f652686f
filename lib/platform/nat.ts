import { Aspects } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { acknowledgeAt, awsSolutions } from '../core/nag';

/**
 * A NAT instance in place of NAT gateways, for DEVELOPMENT: a `t4g.nano` costs about USD 3 a month
 * against USD 33 for a gateway, which bills USD 0.045 per hour and per GiB. What it gives up:
 * a gateway is managed, scales to 100 Gbit/s and survives a host failure; the instance is one
 * burstable host (up to 5 Gbit/s for minutes, 32 Mbit/s sustained, enough for a test stack's image
 * pulls), recovered by EC2 on a host failure, and replaced when its Amazon Linux 2023 image (an
 * SSM parameter resolved at deploy time) has moved on, which patches it at the price of a short
 * egress gap during that deploy. PRODUCTION keeps one gateway per zone.
 */
export function natInstanceProvider(instanceType: string): ec2.NatInstanceProviderV2 {
  return ec2.NatProvider.instanceV2({
    instanceType: new ec2.InstanceType(instanceType),
    // Nothing reaches it from outside; the private subnets' traffic is admitted by completeNatInstances.
    defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
    associatePublicIpAddress: true,
    // Standard credits: a busy month throttles it instead of billing unlimited-mode surplus.
    creditSpecification: ec2.CpuCredits.STANDARD,
  });
}

/**
 * Lets the private subnets' traffic through the NAT instances (their CIDRs, not the VPC's: nothing
 * in a public subnet needs it), and hardens them (IMDSv2, encrypted volume).
 */
export function completeNatInstances(provider: ec2.NatInstanceProviderV2, vpc: ec2.Vpc): void {
  for (const subnet of vpc.privateSubnets) {
    provider.connections.allowFrom(ec2.Peer.ipv4(subnet.ipv4CidrBlock), ec2.Port.allTraffic(), `Egress of private subnet ${subnet.ipv4CidrBlock}`);
  }
  for (const instance of provider.gatewayInstances) {
    Aspects.of(instance).add(new ec2.InstanceRequireImdsv2Aspect());
    const cfn = instance.node.defaultChild as ec2.CfnInstance;
    cfn.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { encrypted: true, volumeSize: 8, volumeType: 'gp3', deleteOnTermination: true } }];
    cfn.monitoring = false;
    acknowledgeAt(instance, 'Resource',
      'DEVELOPMENT NAT instance: basic (5-minute) metrics suffice for a test stack\'s egress host; detailed monitoring would bill custom metrics',
      awsSolutions('EC28'));
    acknowledgeAt(instance, 'Resource',
      'DEVELOPMENT NAT instance: it holds no state, and the stack replaces it on every image update, which termination protection would block',
      awsSolutions('EC29'));
  }
}
