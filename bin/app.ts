#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
// Only what the app uses, not the public index (which also loads the snapshot helpers).
import { MlopsStack } from '../lib/mlops-stack';
import { parseProfile } from '../lib/core/profile';

// Environment-agnostic on purpose: `npm run synth` needs no account, credentials or lookups.
// Choose the profile and the admin role with context, e.g.
//   npx cdk deploy -c profile=production -c adminRoleArn=arn:aws:iam::123456789012:role/Admin
const app = new App();
new MlopsStack(app, 'MlopsStack', {
  profile: parseProfile(app.node.tryGetContext('profile'), 'bin/app.ts (context)'),
  adminRoleArn: app.node.tryGetContext('adminRoleArn'),
  description: 'cdk-mlops-stack reference MLOps stack (EKS Auto Mode, External Secrets, DVC remote, MLflow, Feast, Dagster, KServe)',
});
app.synth();
