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
 * Synthesizes the reference stack the way `cdk synth` does, with the AwsSolutions pack attached.
 * Any unacknowledged finding makes `app.synth()` throw "Validation failed".
 */
export function synthReference(profile: StackProfile, props: MlopsStackProps = {}): Synthesized {
  const outdir = tempDir(profile);
  const app = new App({ outdir });
  const stack = new MlopsStack(app, 'MlopsStack', { profile, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { app, stack, template: Template.fromStack(stack), outdir };
}

/** Both profiles, synthesized once per test file. */
export const PROFILES = [StackProfile.DEVELOPMENT, StackProfile.PRODUCTION];
