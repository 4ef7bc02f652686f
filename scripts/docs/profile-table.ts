// The README's profile table, written from the components' defaults tables so it cannot drift
// from them: `npm run docs:profiles` rewrites it, test/docs.test.ts fails when it is stale.
import * as fs from 'fs';
import * as path from 'path';
import { profileDefaults } from '../../lib/core/profile';
import { StackProfile } from '../../constructs/core/profile';
import { DAGSTER_DAEMON, DAGSTER_DEFAULTS, DAGSTER_WEBSERVER } from '../../constructs/dagster/defaults';
import { DRIFT_CHECK_DEFAULTS } from '../../constructs/evidently/defaults';
import { FEAST_DEFAULTS } from '../../constructs/feast/defaults';
import { MODEL_DEFAULTS } from '../../constructs/kserve/defaults';
import { MLFLOW_DEFAULTS } from '../../constructs/mlflow/defaults';
import { DVC_NONCURRENT_VERSION_DAYS } from '../../lib/dvc/dvc-remote';

export const README = path.join(__dirname, '..', '..', 'README.md');
const BEGIN = '<!-- profile table: written by npm run docs:profiles from the defaults tables -->';
const END = '<!-- end of profile table -->';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** `512Mi` as `512 MiB`, `1` CPU as `1 CPU`. */
const quantity = (q: string) => q.replace(/^(\d+(?:\.\d+)?)([KMGT])i$/, '$1 $2iB').replace(/^(\d+(?:\.\d+)?)$/, '$1 CPU');
const sized = (cpu: string, memory: string, limit?: string) =>
  `${quantity(cpu)} / ${quantity(memory)}${limit && limit !== memory ? ` up to ${quantity(limit)}` : ''}`;
const days = (n: number) => (n === 30 ? '1 month' : n === 365 ? '1 year' : plural(n, 'day'));

function column(profile: StackProfile): Record<string, string> {
  const p = profileDefaults(profile);
  const production = profile === StackProfile.PRODUCTION;
  const spread = production ? ' (zone spread, PDB)' : '';
  const hpa = production ? ' (HPA, zone spread, PDB)' : ' (HPA)';
  const db = p.database;
  const mlflow = MLFLOW_DEFAULTS[profile];
  const dagster = DAGSTER_DEFAULTS[profile];
  const feast = FEAST_DEFAULTS[profile];
  const model = MODEL_DEFAULTS[profile];
  const drift = DRIFT_CHECK_DEFAULTS.resources[profile];
  const replicas = (min: number, max: number) => (min === max ? plural(min, 'replica') : `${min}-${max} replicas`);
  return {
    'availability zones': production ? `${p.maxAzs} (needs \`env\` with account and region; an environment-agnostic stack gets 2)` : String(p.maxAzs),
    'NAT': p.natInstanceType
      ? `${plural(p.natGateways ?? p.maxAzs, 'NAT instance')} (\`${p.natInstanceType}\`, lib/platform/nat.ts)`
      : p.natGateways === undefined ? 'one NAT gateway per AZ' : plural(p.natGateways, 'NAT gateway'),
    'node volume (each workload node)': `${p.nodeVolumeGiB} GiB gp3`,
    'flow-log and log retention': days(p.logRetention),
    'noncurrent object versions kept (DVC)': days(DVC_NONCURRENT_VERSION_DAYS),
    'deletion protection of databases': p.deletionProtection ? 'on' : 'off',
    'MLflow and Dagster databases (one instance each)': [`\`db.${db.instanceType}\``, db.multiAz ? 'Multi-AZ' : 'single-AZ',
      `${plural(db.backupRetentionDays, 'day')} of backups`, ...(db.performanceInsights ? ['Performance Insights'] : []),
      ...(db.monitoringIntervalSeconds ? [`Enhanced Monitoring every ${db.monitoringIntervalSeconds} s`] : [])].join(', '),
    'MLflow pods': `${plural(mlflow.replicas, 'replica')}${spread}, ${plural(mlflow.workers, 'worker')}, ${sized(mlflow.cpu, mlflow.memory)}`,
    'Dagster pods': `${plural(dagster.webserverReplicas, 'webserver')}${spread}: ${sized(DAGSTER_WEBSERVER.cpu, DAGSTER_WEBSERVER.memory, DAGSTER_WEBSERVER.memoryLimit)} each; `
      + `daemon: ${sized(DAGSTER_DAEMON.cpu, DAGSTER_DAEMON.memory, DAGSTER_DAEMON.memoryLimit)}; `
      + `${plural(dagster.maxConcurrentRuns, 'run')} at a time: ${sized(dagster.runCpu, dagster.runMemoryRequest, dagster.runMemory)} each`,
    'Feast online store': `ElastiCache for Valkey \`${feast.onlineStore.nodeType}\`, `
      + (feast.onlineStore.nodes > 1 ? `primary + ${plural(feast.onlineStore.nodes - 1, 'replica')} in other AZs, automatic failover` : '1 node')
      + `, ${plural(feast.onlineStore.snapshotDays, 'daily snapshot')}`,
    'Feast pods': `server: ${replicas(feast.server.replicas, feast.server.maxReplicas)}${hpa}, ${plural(feast.server.workers, 'worker')}, `
      + `${sized(feast.server.cpu, feast.server.memory)}; materializer: ${sized(feast.server.jobCpu, feast.server.jobMemoryRequest, feast.server.jobMemory)}`,
    'KServe models': `${replicas(model.minReplicas, model.maxReplicas)}${model.maxReplicas > model.minReplicas ? ' (HPA on CPU)' : ''}, `
      + `${sized(model.cpu, model.memory, model.memoryLimit)}, plus the payload logger agent 100m / 100 MiB`,
    'drift checks (each run)': sized(drift.cpu, drift.memory, drift.memoryLimit),
    'buckets, keys, log groups': 'retained',
  };
}

/** The table, between its markers. */
export function profileTable(): string {
  const dev = column(StackProfile.DEVELOPMENT);
  const prod = column(StackProfile.PRODUCTION);
  const rows = Object.keys(dev).map(setting => `| ${setting} | ${dev[setting]} | ${prod[setting]} |`);
  return [BEGIN, '| setting | `DEVELOPMENT` (default) | `PRODUCTION` |', '| --- | --- | --- |', ...rows, END].join('\n');
}

/** The README's current table, between its markers. */
export function readmeTable(text: string): string | undefined {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start, end + END.length);
}

if (require.main === module) {
  const text = fs.readFileSync(README, 'utf8');
  const current = readmeTable(text);
  if (!current) throw new Error(`README.md has no profile table between '${BEGIN}' and '${END}'`);
  fs.writeFileSync(README, text.replace(current, profileTable()));
}
