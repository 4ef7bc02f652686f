// Renders the charts the contract tests run, with the endpoints of the local emulators. The
// tests read containers, commands, args, env and probes from these files, never from copies.
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import { StackProfile } from '../../constructs/core/profile';
import { Dagster } from '../../constructs/dagster/dagster';
import { DriftMonitor } from '../../constructs/evidently/drift-monitor';
import { FeastFeatureStore } from '../../constructs/feast/feast-feature-store';
import { MlflowPermission, MlflowServer } from '../../constructs/mlflow/mlflow-server';
import { RedisServer } from '../../constructs/redis/redis-server';
import { CLUSTER_SCOPED_KINDS, DRIFT_METRIC_NAMESPACE, DvcRemote, EXTERNAL_SECRETS_CHART, KubernetesManifests, MlopsStack, ModelFormat } from '../../lib';
import { CONTRACT } from '../../test/contract/endpoints';
import { helmTemplate, renderHelmReleases } from '../../test/support/helm';
import { stackObjects, standaloneCharts } from '../../test/support/objects';
import { ROOT } from '../../test/support/tools';
import { buildKServeExample } from '../../examples/kserve-on-any-cluster';
import { PROFILES } from '../../test/support/synth';
import { contractBuckets, mergePodPolicies, podPolicies, secretPaths } from './identities';

const outdir = process.argv[2];
if (!outdir) throw new Error('usage: render.ts <outdir>');

const app = new cdk8s.App();
const mlflow = new MlflowServer(app, 'Mlflow', {
  namespace: CONTRACT.mlflow.namespace,
  backendStoreSecretName: CONTRACT.mlflow.secretName,
  backendStoreAdminSecretName: CONTRACT.mlflow.adminSecretName,
  artifactsDestination: CONTRACT.mlflow.artifactsDestination,
  s3EndpointUrl: CONTRACT.s3EndpointUrl,
  awsRegion: CONTRACT.awsRegion,
});
fs.writeFileSync(path.join(outdir, 'mlflow.json'), JSON.stringify(mlflow.toJson(), null, 1));

const withAuth = new MlflowServer(new cdk8s.App(), 'MlflowAuth', {
  namespace: CONTRACT.mlflow.namespace,
  profile: StackProfile.PRODUCTION,
  backendStoreSecretName: CONTRACT.mlflow.secretName,
  artifactsDestination: CONTRACT.mlflow.artifactsDestination,
  s3EndpointUrl: CONTRACT.s3EndpointUrl,
  awsRegion: CONTRACT.awsRegion,
  basicAuth: { secretName: CONTRACT.mlflow.authSecretName, defaultPermission: MlflowPermission.NO_PERMISSIONS },
});
fs.writeFileSync(path.join(outdir, 'mlflow-auth.json'), JSON.stringify(withAuth.toJson(), null, 1));
fs.writeFileSync(path.join(outdir, 'endpoints.json'), JSON.stringify(CONTRACT, null, 1));

// What the reference stack applies to EKS, for the parts rendered in the cluster (ESO templates).
const stack = new MlopsStack(new App(), 'MlopsStack');
fs.writeFileSync(path.join(outdir, 'stack.json'), JSON.stringify(KubernetesManifests.fromStack(stack).map(o => o.object), null, 1));

// Feast as the reference stack applies it, with the AWS names the manifest refers to replaced by the
// local ones: the bucket, the online store's endpoint (TLS, AUTH) and the region.
const ref = (c: any) => stack.getLogicalId(c.node.defaultChild ?? c);
const feastSubstitutions: Record<string, string> = {
  [`\${Ref:${ref(stack.feast.bucket)}}`]: CONTRACT.feast.bucket,
  [`\${${ref(stack.feast.onlineStore)}.PrimaryEndPoint.Address}`]: '127.0.0.1',
  [`\${${ref(stack.feast.onlineStore)}.PrimaryEndPoint.Port}`]: String(CONTRACT.redisPort),
  [`\${Ref:${ref(stack.feast.readerPassword)}}`]: 'contract/feast-online-store',
  [`\${Ref:${ref(stack.feast.writerPassword)}}`]: 'contract/feast-online-store-writer',
  '${Ref:AWS::Region}': CONTRACT.awsRegion,
};
let feastJson = JSON.stringify(KubernetesManifests.fromStack(stack).map(o => o.object).filter(o => o.metadata?.namespace === CONTRACT.feast.namespace), null, 1);
for (const [marker, value] of Object.entries(feastSubstitutions)) feastJson = feastJson.split(marker).join(value);
const leftover = feastJson.match(/\$\{(Ref:|[A-Za-z0-9]+\.)[^}]*\}/g);
if (leftover) throw new Error(`render.ts: unsubstituted references in Feast's manifest: ${[...new Set(leftover)].join(', ')}`);
fs.writeFileSync(path.join(outdir, 'feast-stack.json'), feastJson);
// The online store's users as ElastiCache gets them: name, access string, and the secret (by the
// name its ExternalSecret reads, null for one no pod reads) whose password they sign in with.
const remoteKeys: Record<string, string> = Object.fromEntries(Object.entries(feastSubstitutions).filter(([, v]) => v.startsWith('contract/'))
  .map(([marker, v]) => [marker.slice('${Ref:'.length, -1), v]));
fs.writeFileSync(path.join(outdir, 'feast-stack-users.json'), JSON.stringify(
  Object.values(Template.fromStack(stack).findResources('AWS::ElastiCache::User')).map((r: any) => {
    const secretRef = JSON.stringify(r.Properties.AuthenticationMode.Passwords).match(/"Ref":"([A-Za-z0-9]+)"/)?.[1];
    if (!secretRef) throw new Error(`render.ts: user ${r.Properties.UserName} has no password from a secret of the stack`);
    return { username: r.Properties.UserName, access: r.Properties.AccessString, remoteKey: remoteKeys[secretRef] ?? null };
  }), null, 1));

// Feast with the in-cluster Redis, as on a cluster without AWS (the standalone example).
const standalone = new cdk8s.App();
const redis = new RedisServer(standalone, 'Redis', { namespace: CONTRACT.feast.namespace, passwordSecretName: CONTRACT.feast.redisSecretName });
new FeastFeatureStore(standalone, 'Feast', {
  namespace: CONTRACT.feast.namespace,
  project: 'standalone',
  registryPath: CONTRACT.feast.standaloneRegistry,
  s3EndpointUrl: CONTRACT.s3EndpointUrl,
  awsRegion: CONTRACT.awsRegion,
  onlineStore: { connectionString: redis.endpoint, tls: false, passwordSecretName: CONTRACT.feast.redisSecretName, clientPodLabels: redis.clientLabels },
});
const standaloneObjects = standalone.charts.flatMap(c => c.toJson());
fs.writeFileSync(path.join(outdir, 'feast-standalone.json'), JSON.stringify(standaloneObjects, null, 1));

// Dagster with one code location (the test's own code stands in for the location's image).
const dagster = new Dagster(new cdk8s.App(), 'Dagster', {
  namespace: CONTRACT.dagster.namespace,
  databaseSecretName: CONTRACT.dagster.secretName,
  databaseAdminSecretName: CONTRACT.dagster.adminSecretName,
  computeLogBucket: CONTRACT.dagster.bucket,
  s3EndpointUrl: CONTRACT.s3EndpointUrl,
  awsRegion: CONTRACT.awsRegion,
  codeLocations: [CONTRACT.dagster.location],
});
fs.writeFileSync(path.join(outdir, 'dagster.json'), JSON.stringify(dagster.toJson(), null, 1));

// MLflow on AWS verifying the database server (its CA bundle is replaced by the test's own CA).
const PLACEHOLDER_PEM = '-----BEGIN CERTIFICATE-----\nUExBQ0VIT0xERVI=\n-----END CERTIFICATE-----\n';
const verifying = new MlopsStack(new App(), 'Verifying', { mlflow: { databaseCaCertificates: PLACEHOLDER_PEM } });
fs.writeFileSync(path.join(outdir, 'stack-verify.json'), JSON.stringify(KubernetesManifests.fromStack(verifying).map(o => o.object), null, 1));

// The NetworkPolicies of the reference stack, and of one with an MLflow ingress and a client
// namespace, with the subnet ranges of its VPC (pods get private addresses, the ALB public ones).
const exposed = new MlopsStack(new App(), 'Exposed', { mlflow: { ingress: { host: 'mlflow.example.com' }, clientNamespaces: ['mlflow', 'training'] } });
const policies = (s: MlopsStack) => KubernetesManifests.fromStack(s).map(o => o.object).filter(o => o.kind === 'NetworkPolicy');
const subnetCidrs = (kind: string) => Object.entries(Template.fromStack(exposed).findResources('AWS::EC2::Subnet'))
  .filter(([id]) => id.includes(kind)).map(([, r]) => (r as any).Properties.CidrBlock);
fs.writeFileSync(path.join(outdir, 'network.json'), JSON.stringify({
  reference: policies(stack), exposed: policies(exposed),
  feastStandalone: standaloneObjects.filter(o => o.kind === 'NetworkPolicy'),
  subnets: { public: subnetCidrs('public'), private: subnetCidrs('private') },
}, null, 1));

// Everything the library applies to a cluster, for the API-server checks: per profile the stack's
// manifests and its rendered Helm releases, then the standalone charts.
const perProfile = stackObjects();
fs.writeFileSync(path.join(outdir, 'apiserver.json'), JSON.stringify({
  profiles: Object.fromEntries(PROFILES.map((profile, i) => [profile, {
    manifests: perProfile[i].manifests.map(o => o.object),
    charts: perProfile[i].charts.map(o => o.object),
  }])),
  standalone: standaloneCharts().map(o => o.object),
  clusterScopedKinds: CLUSTER_SCOPED_KINDS,
  // The roles the ESO chart aggregates into view/edit/admin with its default values (what the stack
  // shipped before it turned edit/admin aggregation off), renamed so they can sit beside the stack's.
  esoDefaultAggregatedRoles: helmTemplate('external-secrets', path.join(ROOT, 'test/fixtures/charts', `external-secrets-${EXTERNAL_SECRETS_CHART.version}`),
    'external-secrets', {})
    .filter(o => o.kind === 'ClusterRole' && Object.keys(o.metadata.labels ?? {}).some(l => l.startsWith('rbac.authorization.k8s.io/aggregate-to-')))
    .map(o => ({ ...o, metadata: { ...o.metadata, name: `${o.metadata.name}-chart-defaults` } })),
}, null, 1));

// KServe as the reference stack applies it, with one sklearn model from the MLflow artifact bucket:
// the model namespace's objects (storage container, ServiceAccounts, InferenceService) with the AWS
// names replaced by the local ones, and the objects of KServe's three releases rendered with the
// stack's values. test/contract/kserve_controller.py installs KServe from these and runs its manager.
const KSERVE_RELEASES = ['kserve-crd', 'kserve-runtime-configs', 'kserve-resources'];
function kserveObjects(kserveStack: MlopsStack): { namespaces: any[]; models: any[]; releases: any[] } {
  const kref = (c: any) => kserveStack.getLogicalId(c.node.defaultChild ?? c);
  const substitutions: Record<string, string> = {
    [`\${Ref:${kref(kserveStack.kserve.payloadLogBucket)}}`]: CONTRACT.kserve.payloadBucket,
    '${Ref:AWS::Region}': CONTRACT.awsRegion,
  };
  const manifest = (prefix: string) => {
    let json = JSON.stringify(KubernetesManifests.fromStack(kserveStack).filter(o => o.logicalId.startsWith(prefix)).map(o => o.object), null, 1);
    for (const [marker, value] of Object.entries(substitutions)) json = json.split(marker).join(value);
    const leftover = json.match(/\$\{(Ref:|[A-Za-z0-9]+\.)[^}]*\}/g);
    if (leftover) throw new Error(`render.ts: unsubstituted references in KServe's manifest: ${[...new Set(leftover)].join(', ')}`);
    return JSON.parse(json);
  };
  return {
    namespaces: manifest('PlatformClusterKServeNamespaces'),
    models: manifest('PlatformClusterKServeModels'),
    releases: renderHelmReleases(Template.fromStack(kserveStack).toJSON()).filter(r => KSERVE_RELEASES.includes(r.release)).flatMap(r => r.objects),
  };
}
const contractModel = { name: CONTRACT.kserve.model, modelFormat: ModelFormat.SKLEARN, storageUri: CONTRACT.kserve.storageUri };
// The contract's model sits in a bucket of its own (the emulator's), a model source by name.
const modelSourceBuckets = [{ bucketName: CONTRACT.kserve.sourceBucket, prefix: CONTRACT.kserve.sourcePrefix }];
const kserveStack = new MlopsStack(new App(), 'KServeStack', { kserve: { models: [contractModel], modelSourceBuckets } });
fs.writeFileSync(path.join(outdir, 'kserve.json'), JSON.stringify(kserveObjects(kserveStack), null, 1));
// Every InferenceService the library emits, for the real controller: the stack's model in both
// profiles (PRODUCTION's scales, so KServe adds an HPA), and the standalone example's three.
const kserveExample = new cdk8s.App();
buildKServeExample(kserveExample);
fs.writeFileSync(path.join(outdir, 'kserve-controller.json'), JSON.stringify({
  profiles: Object.fromEntries(PROFILES.map(profile => [profile,
    kserveObjects(new MlopsStack(new App(), `KServe${profile}`, { profile, kserve: { models: [contractModel], modelSourceBuckets } }))])),
  standalone: kserveExample.charts.flatMap(c => c.toJson()),
}, null, 1));

// Drift checks of that model as the reference stack declares them: its CronJob (AWS names replaced by
// the local ones; the image, built at deploy time, is the test's own drift job) and its alarms.
const driftStack = new MlopsStack(new App(), 'DriftStack', {
  evidently: { ui: true }, kserve: { modelSourceBuckets, models: [{ name: CONTRACT.kserve.model, modelFormat: ModelFormat.SKLEARN, storageUri: CONTRACT.kserve.storageUri,
    driftCheck: { features: [...CONTRACT.drift.features], driftShare: CONTRACT.drift.driftShare } }] },
});
const dref = (c: any) => driftStack.getLogicalId(c.node.defaultChild ?? c);
const driftSubstitutions: Record<string, string> = {
  [`\${Ref:${dref(driftStack.kserve.payloadLogBucket)}}`]: CONTRACT.kserve.payloadBucket,
  [`\${Ref:${dref(driftStack.evidently.bucket)}}`]: CONTRACT.drift.reportsBucket,
  '${Ref:AWS::Region}': CONTRACT.awsRegion,
};
let driftJson = JSON.stringify(KubernetesManifests.fromStack(driftStack).map(o => o.object).filter(o => ['CronJob', 'Deployment'].includes(o.kind) && o.metadata.namespace === 'monitoring'), null, 1);
for (const [marker, value] of Object.entries(driftSubstitutions)) driftJson = driftJson.split(marker).join(value);
driftJson = driftJson.replace(/"image": "[^"]*container-assets[^"]*"/g, '"image": "drift-job-under-test"');
const driftLeftover = driftJson.match(/\$\{(Ref:|[A-Za-z0-9]+\.)[^}]*\}/g);
if (driftLeftover) throw new Error(`render.ts: unsubstituted references in the drift CronJob: ${[...new Set(driftLeftover)].join(', ')}`);
const driftAlarms = Object.values(Template.fromStack(driftStack).findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: DRIFT_METRIC_NAMESPACE } }))
  .map((a: any) => a.Properties);
const driftObjects = JSON.parse(driftJson);
// A DriftMonitor given only what it requires: its args are the construct's defaults, which the
// drift job's own defaults must equal (a job run by hand then checks what the CronJob checks).
const defaultMonitor = new DriftMonitor(new cdk8s.App(), 'Defaults', {
  image: 'drift-job', model: 'm', referenceUri: 's3://bucket/r.parquet', payloadLogsUri: 's3://bucket/p/', reportsUri: 's3://bucket/reports',
});
fs.writeFileSync(path.join(outdir, 'drift.json'), JSON.stringify({
  cronJobs: driftObjects.filter((o: any) => o.kind === 'CronJob'), ui: driftObjects.find((o: any) => o.kind === 'Deployment'), alarms: driftAlarms,
  defaultArgs: defaultMonitor.toJson().find((o: any) => o.kind === 'CronJob').spec.jobTemplate.spec.template.spec.containers[0].args,
}, null, 1));

// Two DVC remotes as a user would declare them (content-addressed, and with cloud versioning), with
// a reader and a writer granted through the constructs: the test gives moto exactly these policies.
const dvcStack = new Stack(new App(), 'Dvc');
const remotes = {
  main: new DvcRemote(dvcStack, 'Remote', { bucketName: 'contract-dvc' }),
  versioned: new DvcRemote(dvcStack, 'Versioned', { bucketName: 'contract-dvc-versioned', versionAware: true, remoteName: 'history' }),
};
const reader = new iam.User(dvcStack, 'Reader');
const writer = new iam.User(dvcStack, 'Writer');
remotes.main.grantRead(reader);
remotes.main.grantReadWrite(writer);
remotes.versioned.grantReadWrite(writer);
const id = (c: any) => dvcStack.getLogicalId(c.node.defaultChild);
fs.writeFileSync(path.join(outdir, 'dvc.json'), JSON.stringify({
  template: Template.fromStack(dvcStack).toJSON(),
  remotes: Object.fromEntries(Object.entries(remotes).map(([name, r]) => [name, {
    bucket: id(r.bucket), key: id(r.encryptionKey), ciPolicy: id(r.ciPolicy),
    outputs: ['RemoteAddCommand', 'RemoteModifyCommand'].map(o => dvcStack.getLogicalId(r.node.findChild(o) as any)),
  }])),
  users: { reader: id(reader), writer: id(writer) },
}, null, 1));
// The Pod Identity roles of the stacks above, for the emulator to enforce (test/contract/identity.py):
// every pod that calls AWS in these tests does so as its own role, with the stack's buckets
// standing for the local ones the rendered manifests name.
fs.writeFileSync(path.join(outdir, 'identities.json'), JSON.stringify(
  mergePodPolicies(...[stack, kserveStack, driftStack].map(s => podPolicies(s, contractBuckets(s), CONTRACT.awsRegion))), null, 1));
// The reference stack's secret path (External Secrets' stores, their roles, every ExternalSecret),
// for the emulator to run with Secrets Manager (test/contract/test_secret_paths.py).
fs.writeFileSync(path.join(outdir, 'secret-paths.json'), JSON.stringify(
  secretPaths(stack, contractBuckets(stack), CONTRACT.awsRegion, 'external-secrets/external-secrets'), null, 1));
