import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { KUBERNETES_VERSION } from '../../lib';
import { tempDir } from './synth';

export const ROOT = path.resolve(__dirname, '../..');
/** CRDs of the custom resources the stack emits, vendored with their provenance (test/fixtures/README.md). */
export const FIXTURE_CRDS = path.join(ROOT, 'test/fixtures/crds');
// The venvs live in the checkout; a mutation run's sandbox copy of the project finds them through
// CDK_MLOPS_VENVS (set by `npm run test:mutation`) instead of copying a gigabyte of Python.
const VENVS = process.env.CDK_MLOPS_VENVS ?? ROOT;
const VENV_BIN = path.join(VENVS, '.venv/bin');

function tool(name: string): string {
  const file = path.join(VENV_BIN, name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`bash scripts/setup-tools.sh\` (npm test does it first)`);
  }
  return file;
}

/** Runs the pinned cfn-lint with the project's config; returns its exit code and output. */
export function cfnLint(templates: string[]): { status: number; output: string } {
  const run = spawnSync(tool('cfn-lint'), ['--config-file', path.join(ROOT, '.cfnlintrc.yaml'), '--', ...templates],
    { encoding: 'utf8', cwd: ROOT });
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** An object to validate and where it came from, for the report. */
export interface SourcedObject {
  readonly source: string;
  readonly object: any;
}

/** Result of scripts/validate_k8s.py. */
export interface ValidationReport {
  readonly status: number;
  readonly validated: number;
  readonly failures: { source: string; kind: string; name: string; errors: string[] }[];
}

/**
 * Validates Kubernetes objects strictly against the Kubernetes schema of the version the stack
 * targets and against the vendored CRDs (test/fixtures/crds).
 */
export function validateKubernetes(objects: SourcedObject[]): ValidationReport {
  const input = path.join(tempDir('k8s'), 'objects.json');
  fs.writeFileSync(input, JSON.stringify(objects));
  const crdDirs = fs.readdirSync(FIXTURE_CRDS, { withFileTypes: true })
    .filter(d => d.isDirectory()).flatMap(d => ['--crds', path.join(FIXTURE_CRDS, d.name)]);
  const run = spawnSync(tool('python'), [path.join(ROOT, 'scripts/validate_k8s.py'),
    '--kubernetes-version', `${KUBERNETES_VERSION}.0`, ...crdDirs, input], { encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`validate_k8s.py failed (${run.status}): ${run.stderr}`);
  }
  const report = JSON.parse(run.stdout);
  return { status: run.status, ...report };
}

/** One failed checkov check. */
export interface CheckovFinding {
  readonly check: string;
  /** checkov's resource name, e.g. `AWS::S3::Bucket.LogicalId` or `Deployment.namespace.name`. */
  readonly resource: string;
  /** File name within the scanned folder. */
  readonly file: string;
}

/** What a checkov run reported, by framework. */
export interface CheckovReport {
  readonly failed: CheckovFinding[];
  readonly passed: Record<string, number>;
  readonly resources: Record<string, number>;
}

/**
 * Runs the pinned checkov over a folder, CloudFormation and Kubernetes at once, offline
 * (--skip-download: it would otherwise fetch guidelines from its vendor's API).
 */
export function checkov(dir: string): CheckovReport {
  const bin = path.join(VENVS, '.venv-checkov/bin/checkov');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`bash scripts/setup-tools.sh\` (npm test does it first)`);
  const run = spawnSync(bin, ['--directory', dir, '--framework', 'cloudformation', 'kubernetes', '--skip-download',
    '--quiet', '--compact', '--output', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`checkov failed (${run.status}): ${run.stderr.slice(-2000)}`);
  const reports: any[] = [JSON.parse(run.stdout)].flat();
  return {
    failed: reports.flatMap(r => r.results.failed_checks.map((f: any) => ({
      check: f.check_id, resource: f.resource, file: path.basename(f.file_path),
    }))),
    passed: Object.fromEntries(reports.map(r => [r.check_type, r.summary.passed])),
    resources: Object.fromEntries(reports.map(r => [r.check_type, r.summary.resource_count])),
  };
}
