import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MlopsStack, MlopsStackProps, StackProfile } from '../../lib';

/** A synthesized reference stack, with cdk-nag (AwsSolutions) run on it. */
export interface Synthesized {
  readonly app: App;
  readonly stack: MlopsStack;
  readonly template: Template;
  /** Folder of the cloud assembly (templates, assets, validation report). */
  readonly outdir: string;
}

/** A fresh temporary folder, removed with the worker's temporary root (test/support/temp-root.js). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cdk-mlops-${prefix}-`));
}

/**
 * The context of cdk.json (the feature flags the reference app deploys with). Apps made with a
 * bare `new App()` in the tests run without them, as a user's app might: both are covered.
 */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

/**
 * Synthesizes the reference stack the way `cdk synth` does (cdk.json's feature flags included),
 * with the AwsSolutions pack attached. Any unacknowledged finding makes `app.synth()` throw
 * "Validation failed".
 */
export function synthReference(profile: StackProfile, props: MlopsStackProps = {}, stackName = 'MlopsStack'): Synthesized {
  const outdir = tempDir(profile);
  const app = new App({ outdir, context: CDK_JSON_CONTEXT });
  const stack = new MlopsStack(app, stackName, { profile, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { app, stack, template: Template.fromStack(stack), outdir };
}

/** Both profiles, synthesized once per test file. */
export const PROFILES = [StackProfile.DEVELOPMENT, StackProfile.PRODUCTION];
