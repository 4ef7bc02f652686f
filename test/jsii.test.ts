import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './support/synth';
import { ROOT } from './support/tools';

// `npm test` runs the jsii compile (`npm run build`) before jest; this reads what it produced.
const assemblyFile = path.join(ROOT, '.jsii');
const assembly = fs.existsSync(assemblyFile) ? JSON.parse(fs.readFileSync(assemblyFile, 'utf8')) : undefined;
const describeBuilt = assembly ? describe : describe.skip;

/** Every type reference in the assembly, with where it is used. */
function typeRefs(): { where: string; ref: any }[] {
  const refs: { where: string; ref: any }[] = [];
  for (const [fqn, type] of Object.entries(assembly.types as Record<string, any>)) {
    for (const p of type.properties ?? []) refs.push({ where: `${fqn}.${p.name}`, ref: p.type });
    for (const m of [...(type.methods ?? []), ...(type.initializer ? [type.initializer] : [])]) {
      for (const p of m.parameters ?? []) refs.push({ where: `${fqn}.${m.name ?? '<init>'}(${p.name})`, ref: p.type });
      if (m.returns) refs.push({ where: `${fqn}.${m.name} returns`, ref: m.returns.type });
    }
  }
  return refs;
}

/**
 * Names of the API that are reserved words of Python, where jsii-pacmak would have to rename them
 * (`from` becomes `from_`). The build silences jsii's reserved-word warnings because most concern
 * C# (`namespace`, `object`: Kubernetes' own vocabulary) and C# is not a target; Python is, so its
 * words fail here instead.
 */
function pythonReservedNames(assemblyTypes: Record<string, any>, reserved: string[]): string[] {
  const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const found: string[] = [];
  for (const [fqn, type] of Object.entries(assemblyTypes)) {
    const names = [
      ...(type.properties ?? []).map((p: any) => p.name),
      ...(type.methods ?? []).flatMap((m: any) => [m.name, ...(m.parameters ?? []).map((p: any) => p.name)]),
      ...(type.initializer?.parameters ?? []).map((p: any) => p.name),
    ];
    for (const name of names) if (reserved.includes(snake(name))) found.push(`${fqn}.${name}`);
  }
  return found;
}

const PYTHON_RESERVED = JSON.parse(spawnSync('python3', ['-c', 'import json, keyword; print(json.dumps(keyword.kwlist + keyword.softkwlist))'],
  { encoding: 'utf8' }).stdout);

test('npm test compiled the jsii assembly first (this file needs it)', () => {
  expect(assembly).toBeDefined();
});

describeBuilt('the jsii assembly', () => {
  test('holds the public constructs, their props and enums', () => {
    const names = Object.keys(assembly.types).map(fqn => fqn.replace(/^cdk-mlops-stack\./, ''));
    expect(names).toEqual(expect.arrayContaining([
      'MlopsStack', 'MlopsStackProps', 'MlopsCluster', 'MlflowOnAws', 'MlflowOnAwsProps', 'MlflowOptions', 'MlflowServer', 'MlflowServerProps',
      'DvcRemote', 'ExternalSecrets', 'PodIdentityRole', 'ComponentNamespace', 'SecretStoreGuard', 'AwsSecretStore',
      'StackProfile', 'MlflowPermission', 'LoadBalancerScheme', 'KubernetesManifests',
      'FeastOnAws', 'FeastOnAwsProps', 'FeastOptions', 'FeastFeatureStore', 'FeastFeatureStoreProps', 'FeastOnlineStoreOptions', 'FeastMaterializationOptions',
      'FeastProvider', 'FeastRedisType', 'RedisServer', 'RedisServerProps', 'Dagster', 'DagsterProps', 'DagsterCodeLocation',
      'DagsterDatabaseTls', 'DagsterOnAws', 'DagsterOptions', 'DagsterOnAwsProps',
      'KServeOnAws', 'KServeOnAwsProps', 'KServeOptions', 'EvidentlyOnAws', 'EvidentlyOnAwsProps', 'EvidentlyOptions',
      'ComponentPlatform', 'ISecretDelivery', 'IMlflowModelStore', 'PayloadLogs', 'MlflowSizing', 'FeastSizing', 'DagsterSizing', 'ModelSizing',
    ]));
  });

  test('uses no union types in its API (our rule: they are awkward in Python)', () => {
    const unions = typeRefs().filter(({ ref }) => JSON.stringify(ref ?? {}).includes('"union"')).map(r => r.where);
    expect(unions).toEqual([]);
  });

  test('uses no name Python reserves (jsii would rename it there)', () => {
    expect(PYTHON_RESERVED).toEqual(expect.arrayContaining(['lambda', 'from', 'match']));
    expect(pythonReservedNames(assembly.types, PYTHON_RESERVED)).toEqual([]);
    // The check finds one when there is one.
    expect(pythonReservedNames({ 'x.Props': { properties: [{ name: 'lambda' }, { name: 'namespace' }] } }, PYTHON_RESERVED)).toEqual(['x.Props.lambda']);
  });

  test('targets Python with the documented module and distribution names', () => {
    expect(assembly.targets.python).toEqual({ distName: 'cdk-mlops-stack', module: 'cdk_mlops_stack' });
    expect(Object.keys(assembly.dependencies).sort()).toEqual(['@aws-cdk/lambda-layer-kubectl-v35', 'aws-cdk-lib', 'cdk8s', 'cdk8s-plus-27', 'constructs']);
  });
});

test('the jsii compile refuses an API jsii cannot express (so the build is a real check)', () => {
  const dir = tempDir('jsii');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'jsii-negative', version: '0.0.0', license: 'Apache-2.0', main: 'index.js', types: 'index.d.ts',
    author: pkg.author, repository: pkg.repository, jsii: { outdir: 'dist', targets: {} },
  }));
  // A struct with a mutable property: Python and the other languages get value types, which cannot be.
  fs.writeFileSync(path.join(dir, 'index.ts'), 'export interface BadProps {\n  name: string;\n}\n');
  fs.writeFileSync(path.join(dir, 'README.md'), '# negative\n');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const run = spawnSync(path.join(ROOT, 'node_modules/.bin/jsii'), ['--fail-on-warnings'], { cwd: dir, encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  expect(`${run.stdout}${run.stderr}`).toMatch(/error JSII3008: The "name" property of struct "jsii-negative.BadProps" must be "readonly"/);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

describeBuilt('the API reference', () => {
  test('docs/api is what jsii-docgen writes from the doc comments now (run `npm run docgen` after an API change)', () => {
    const dir = tempDir('docgen');
    const run = spawnSync(path.join(ROOT, 'node_modules/.bin/jsii-docgen'), ['-l', 'typescript', '-l', 'python', '-o', path.join(dir, 'API.md')],
      { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const language of ['typescript', 'python']) {
      const file = `API.${language}.md`;
      const generated = fs.readFileSync(path.join(dir, file), 'utf8');
      expect(generated).toContain('### MlopsStack');
      expect({ file, current: generated === fs.readFileSync(path.join(ROOT, 'docs/api', file), 'utf8') }).toEqual({ file, current: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
