#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { MlopsStack, StackProfile } from '../lib';

// Environment-agnostic on purpose: `npm run synth` needs no account, credentials or lookups.
// Choose the profile and the admin role with context, e.g.
//   npx cdk deploy -c profile=production -c adminRoleArn=arn:aws:iam::123456789012:role/Admin
const app = new App();
const profileName = app.node.tryGetContext('profile') ?? StackProfile.DEVELOPMENT;
const profile = Object.values(StackProfile).find(p => p === profileName);
if (!profile) {
  throw new Error(`bin/app.ts: invalid context 'profile' = ${JSON.stringify(profileName)}; allowed: ${Object.values(StackProfile).join(', ')}`);
}
new MlopsStack(app, 'MlopsStack', {
  profile,
  adminRoleArn: app.node.tryGetContext('adminRoleArn'),
  description: 'cdk-mlops-stack reference MLOps stack (EKS Auto Mode, External Secrets, DVC remote)',
});
app.synth();
