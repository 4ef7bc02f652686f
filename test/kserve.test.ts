import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import {
  AGENT_PORT, CERT_MANAGER_CHART, InferenceProtocol, InferenceService, InferenceServiceProps, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART,
  KSERVE_RUNTIMES_CHART, KubernetesManifests, LINEAGE_ANNOTATIONS, LOGGER_SETTINGS_SERVICE_ACCOUNT, MlflowInferenceService, MlopsStack,
  MODEL_CLIENT_LABEL, MODEL_PORT, ModelFormat, PayloadLogFormat, PayloadLogMode, RUNTIME_OF_FORMAT, S3StorageContainer,
  StackProfile,
} from '../lib';
import { parse } from 'yaml';
import { renderHelmReleases } from './support/helm';
import { synthReference } from './support/synth';
import { ROOT } from './support/tools';

const REQUIRED: InferenceServiceProps = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris/v1' };
const isvc = (props: Partial<InferenceServiceProps> = {}) =>
  new InferenceService(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Iris', { ...REQUIRED, ...props });
const spec = (i: InferenceService) => i.resource.toJson().spec;

describe('InferenceService with only the required props', () => {
  const i = isvc();
  const predictor = spec(i).predictor;

  test('Standard mode, the format\'s runtime named explicitly, its first protocol, the URI as given', () => {
    expect(i.resource.toJson().metadata.annotations).toEqual({
      'serving.kserve.io/deploymentMode': 'Standard', 'serving.kserve.io/autoscalerClass': 'none',
    });
    expect(predictor.model).toMatchObject({
      modelFormat: { name: 'sklearn' }, runtime: 'kserve-sklearnserver', protocolVersion: 'v1', storageUri: 's3://models/iris/v1',
    });
    expect(i.url).toBe('http://iris-predictor.models.svc.cluster.local');
  });

  test('the main predictor\'s model carries no name: KServe\'s webhook refuses one in Standard mode', () => {
    expect(predictor.model).not.toHaveProperty('name');
  });

  test('one replica, no autoscaler, DEVELOPMENT-sized (request below limit), no API token', () => {
    expect(predictor).toMatchObject({ minReplicas: 1, maxReplicas: 1, automountServiceAccountToken: false });
    expect(predictor.scaleMetric).toBeUndefined();
    expect(predictor.model.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  });

  test('the pod-level context makes every container KServe adds non-root with RuntimeDefault seccomp', () => {
    expect(predictor.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('only client pods of its own namespace reach the model server', () => {
    const policy = new cdk8s.Chart(new cdk8s.App(), 'P');
    new InferenceService(policy, 'Iris', REQUIRED);
    const np = policy.toJson().find((o: any) => o.kind === 'NetworkPolicy');
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { 'serving.kserve.io/inferenceservice': 'iris' } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'models' } }, podSelector: { matchLabels: { [MODEL_CLIENT_LABEL]: 'true' } } }],
        ports: [{ port: MODEL_PORT, protocol: 'TCP' }],
      }],
    });
  });
});

describe('InferenceService options', () => {
  test('autoscaling: an HPA on the chosen metric between min and max', () => {
    const p = spec(isvc({ minReplicas: 2, maxReplicas: 5, scaleTarget: 60 })).predictor;
    expect(p).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleMetric: 'cpu', scaleTarget: 60 });
    expect(isvc({ minReplicas: 2, maxReplicas: 5 }).resource.toJson().metadata.annotations['serving.kserve.io/autoscalerClass']).toBe('hpa');
  });

  test('PRODUCTION: two to four replicas with the runtime\'s own size', () => {
    const p = spec(isvc({ profile: StackProfile.PRODUCTION })).predictor;
    expect(p).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(p.model.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
  });

  test('CPU limit: at least the runtime\'s 1 CPU, raised to a larger request, so the merged pod stays valid', () => {
    expect(spec(isvc({ cpu: '2' })).predictor.model.resources.limits.cpu).toBe('2');
    expect(spec(isvc({ cpu: '1500m' })).predictor.model.resources.limits.cpu).toBe('1500m');
    expect(spec(isvc({ cpu: '250m' })).predictor.model.resources.limits.cpu).toBe('1');
    expect(spec(isvc({ cpu: '250m', cpuLimit: '500m' })).predictor.model.resources.limits.cpu).toBe('500m');
  });

  test('the CPU limit the stack assumes is the one every enabled runtime of the chart sets', () => {
    const runtimes = renderHelmReleases(synthReference(StackProfile.DEVELOPMENT).template.toJSON())
      .flatMap(r => r.objects).filter(o => o.kind === 'ClusterServingRuntime' && !o.spec.disabled);
    expect(runtimes.map(r => r.metadata.name)).toEqual(expect.arrayContaining(Object.values(RUNTIME_OF_FORMAT).map(r => r.name)));
    expect(new Set(runtimes.filter(r => Object.values(RUNTIME_OF_FORMAT).some(f => f.name === r.metadata.name))
      .map(r => r.spec.containers[0].resources.limits.cpu))).toEqual(new Set(['1']));
  });

  test.each([
    [{ cpu: '2', cpuLimit: '1' }, /Iris: invalid prop 'cpuLimit' = "1"; allowed: at least cpu \("2"\)/],
    [{ memory: '4Gi', memoryLimit: '2Gi' }, /Iris: invalid prop 'memoryLimit' = "2Gi"; allowed: at least memory \("4Gi"\)/],
    [{ cpu: 'two' }, /Iris: invalid prop 'cpu' = "two"; allowed: a Kubernetes quantity/],
    [{ memory: '1 GiB' }, /Iris: invalid prop 'memory' = "1 GiB"; allowed: a Kubernetes quantity/],
  ])('a limit below its request, or no quantity, fails at synth: %j', (props, message) => {
    expect(() => isvc(props as Partial<InferenceServiceProps>)).toThrow(message);
  });

  test('GPUs: requested and limited, with the node selector and tolerations', () => {
    const p = spec(isvc({ gpus: 2, nodeSelector: { gpu: 'true' }, tolerations: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] })).predictor;
    expect(p.model.resources.requests['nvidia.com/gpu']).toBe('2');
    expect(p.model.resources.limits['nvidia.com/gpu']).toBe('2');
    expect(p.nodeSelector).toEqual({ gpu: 'true' });
    expect(p.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test('a canary: a second predictor with its own model and the same pod settings (KServe v0.20 spec.canary)', () => {
    const s = spec(isvc({ canary: { name: 'v2', storageUri: 's3://models/iris/v2', trafficPercent: 20 }, serviceAccountName: 'sa' }));
    expect(s.canary).toHaveLength(1);
    expect(s.canary[0]).toMatchObject({ trafficPercent: 20, predictor: { name: 'v2', serviceAccountName: 'sa', model: { name: 'kserve-container', storageUri: 's3://models/iris/v2', runtime: 'kserve-sklearnserver' } } });
    expect(s.canary[0].predictor.securityContext).toEqual(s.predictor.securityContext);
    expect(isvc({ canary: { name: 'v2', storageUri: 's3://models/iris/v2', trafficPercent: 20 } }).canaryUrl).toBe('http://iris-v2-predictor.models.svc.cluster.local');
    expect(isvc().canaryUrl).toBeUndefined();
  });

  test('the payload logger: S3 storage with path, format and batching as KServe validates them, agent port open', () => {
    const chart = new cdk8s.Chart(new cdk8s.App(), 'L');
    const i = new InferenceService(chart, 'Iris', {
      ...REQUIRED,
      logger: { mode: PayloadLogMode.ALL, url: 's3://logs/payload-logs/', path: 'predictions', format: PayloadLogFormat.PARQUET, batchSize: 10, batchInterval: '15s', settingsServiceAccountName: 'settings' },
    });
    expect(spec(i).predictor.logger).toEqual({
      mode: 'all', url: 's3://logs/payload-logs', batchSize: 10, batchInterval: '15s',
      storage: { path: 'predictions', key: 'unused', parameters: { format: 'parquet' }, serviceAccountName: 'settings' },
    });
    const np = chart.toJson().find((o: any) => o.kind === 'NetworkPolicy');
    // Only the agent: the model server's own port would let a prediction bypass the logger.
    expect(np.spec.ingress[0].ports.map((p: any) => p.port)).toEqual([AGENT_PORT]);
  });

  test('every format has a runtime of the chart, and a protocol that runtime speaks', () => {
    for (const format of Object.values(ModelFormat)) {
      const runtime = RUNTIME_OF_FORMAT[format];
      const i = isvc({ modelFormat: format, storageUri: 's3://m/x' });
      expect(spec(i).predictor.model.runtime).toBe(runtime.name);
      expect(runtime.protocols).toContain(i.protocolVersion);
    }
    expect(isvc({ modelFormat: ModelFormat.MLFLOW }).protocolVersion).toBe(InferenceProtocol.V2);
  });
});

describe('MlflowInferenceService: a registered version, served with its lineage', () => {
  const version = { name: 'churn', version: '7', runId: 'a1b2c3', artifactUri: 'mlflow-artifacts:/3/models/m-abc/artifacts' };
  const make = (artifactUri = version.artifactUri) => new MlflowInferenceService(new cdk8s.Chart(new cdk8s.App(), 'C'), 'Churn', {
    name: 'churn', modelVersion: { ...version, artifactUri }, artifactsDestination: 's3://artifacts/mlflow/', trackingUri: 'http://mlflow.mlflow.svc:5000',
    logger: { mode: PayloadLogMode.ALL, url: 's3://logs/payload-logs', path: 'predictions' },
  });

  test('the proxied artifact URI resolves onto the artifact store; format mlflow on MLServer, protocol v2', () => {
    const m = make();
    expect(m.storageUri).toBe('s3://artifacts/mlflow/3/models/m-abc/artifacts');
    expect(spec(m).predictor.model).toMatchObject({ modelFormat: { name: 'mlflow' }, runtime: 'kserve-mlserver', protocolVersion: 'v2' });
    expect(make('mlflow-artifacts://mlflow.mlflow.svc:5000/3/models/m-abc/artifacts').storageUri).toBe('s3://artifacts/mlflow/3/models/m-abc/artifacts');
    expect(make('s3://artifacts/mlflow/3/models/m-abc/artifacts').storageUri).toBe('s3://artifacts/mlflow/3/models/m-abc/artifacts');
  });

  test('name, version, run and source are annotations, and every payload record carries them', () => {
    const m = make();
    expect(m.resource.toJson().metadata.annotations).toMatchObject({
      [LINEAGE_ANNOTATIONS.registeredModel]: 'churn', [LINEAGE_ANNOTATIONS.version]: '7', [LINEAGE_ANNOTATIONS.runId]: 'a1b2c3',
      [LINEAGE_ANNOTATIONS.source]: version.artifactUri, [LINEAGE_ANNOTATIONS.trackingUri]: 'http://mlflow.mlflow.svc:5000',
    });
    expect(spec(m).predictor.logger.metadataAnnotations).toEqual(Object.values(LINEAGE_ANNOTATIONS).sort());
  });
});

describe('S3StorageContainer', () => {
  const container = (props: { region: string; endpointUrl?: string }) =>
    new S3StorageContainer(new cdk8s.Chart(new cdk8s.App(), 'C'), 'S3', props).resource.toJson();

  test('carries the region for every s3:// download, pins the image and meets "restricted" by itself', () => {
    const c = container({ region: 'eu-west-1' });
    expect(c.spec.supportedUriFormats).toEqual([{ prefix: 's3://' }]);
    // KServe injects it as the model pod's init container (the agent-free download before the server starts).
    expect(c.spec.workloadType).toBe('initContainer');
    expect(c.spec.container.name).toBe('storage-initializer');
    expect(c.spec.container.env).toEqual([{ name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' }, { name: 'AWS_REGION', value: 'eu-west-1' }]);
    expect(c.spec.container.image).toBe('docker.io/kserve/storage-initializer:v0.20.0');
    expect(c.spec.container.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('an S3-compatible endpoint, path-style', () => {
    expect(container({ region: 'us-east-1', endpointUrl: 'http://minio.storage:9000/' }).spec.container.env).toEqual(expect.arrayContaining([
      { name: 'AWS_ENDPOINT_URL', value: 'http://minio.storage:9000' }, { name: 'S3_USER_VIRTUAL_BUCKET', value: 'false' },
    ]));
  });
});

describe('KServe in the reference stack', () => {
  const model = { name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://bucket/team/models/iris/v1' };
  const churn = { name: 'churn', mlflowModelVersion: { name: 'churn', version: '2', runId: 'r1', artifactUri: 'mlflow-artifacts:/1/models/m-9/artifacts' } };
  const { stack, template } = synthReference(StackProfile.DEVELOPMENT, {
    kserve: { models: [model, churn], modelSourceBuckets: [{ bucketName: 'bucket', prefix: 'team/models' }] },
  });
  const ACCOUNT = stack.kserve.modelServiceAccount('iris');
  const json = template.toJSON();
  const releases = renderHelmReleases(json);
  const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
  const helm = Object.values(json.Resources as Record<string, any>).filter(r => r.Type === 'Custom::AWSCDK-EKS-HelmChart');

  test('four pinned releases: cert-manager, KServe\'s CRDs, runtimes and controller', () => {
    const pinned = helm.map(r => `${r.Properties.Repository} ${r.Properties.Chart}@${r.Properties.Version}`).sort();
    expect(pinned).toEqual(expect.arrayContaining([CERT_MANAGER_CHART, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART, KSERVE_RUNTIMES_CHART]
      .map(c => `${c.repository} ${c.chart}@${c.version}`)));
    for (const r of helm) expect(r.Properties.Wait).toBe(true);
  });

  test('the controller runs in Standard mode without ingress objects; cert-manager keeps its CRDs', () => {
    const config = releases.flatMap(r => r.objects).find(o => o.kind === 'ConfigMap' && o.metadata.name === 'inferenceservice-config');
    expect(JSON.parse(config.data.deploy).defaultDeploymentMode).toBe('Standard');
    expect(JSON.parse(config.data.ingress)).toMatchObject({ disableIngressCreation: true });
    const certManager = helm.find(r => r.Properties.Chart === 'cert-manager');
    expect(JSON.parse(certManager.Properties.Values).crds).toEqual({ enabled: true, keep: true });
    const crds = releases.find(r => r.release === 'cert-manager')!.objects.filter(o => o.kind === 'CustomResourceDefinition');
    expect(crds.length).toBe(6);
    for (const crd of crds) expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    const images = releases.find(r => r.release === 'cert-manager')!.objects.filter(o => o.kind === 'Deployment')
      .map(d => d.spec.template.spec.containers[0].image);
    expect(images.every(i => i.endsWith(`:${CERT_MANAGER_CHART.appVersion}`))).toBe(true);
  });

  test('the runtimes of ModelFormat are enabled, the others (vLLM\'s unpinned `latest` among them) disabled', () => {
    const runtimes = releases.find(r => r.release === 'kserve-runtime-configs')!.objects;
    const enabled = runtimes.filter(o => !o.spec.disabled).map(o => o.metadata.name).sort();
    // The multi-node Hugging Face runtime shares the single-node one's flag in the chart.
    expect(enabled).toEqual([...Object.values(RUNTIME_OF_FORMAT).map(r => r.name), 'kserve-huggingfaceserver-multinode'].sort());
    expect(runtimes.find(o => o.metadata.name === 'kserve-vllmserver').spec.disabled).toBe(true);
    for (const r of runtimes.filter(o => !o.spec.disabled)) expect(r.spec.containers[0].image).not.toMatch(/:latest$/);
  });

  test('the model runs as the namespace\'s ServiceAccount, downloads through the region-carrying storage container and logs to the stack\'s bucket', () => {
    const i = objects.find(o => o.kind === 'InferenceService' && o.metadata.name === 'iris');
    expect(i.metadata.namespace).toBe('models');
    expect(i.spec.predictor).toMatchObject({ serviceAccountName: ACCOUNT, storageContainerName: 's3-models' });
    expect(i.spec.predictor.logger).toMatchObject({
      mode: 'all', url: expect.stringMatching(/^s3:\/\/\$\{Ref:KServePayloadLogs[0-9A-F]{8}\}\/payload-logs$/),
      storage: { path: 'predictions', parameters: { format: 'json' }, serviceAccountName: LOGGER_SETTINGS_SERVICE_ACCOUNT },
    });
    const storage = objects.find(o => o.kind === 'ClusterStorageContainer');
    expect(storage.spec.container.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: '${Ref:AWS::Region}' });
    const settings = objects.find(o => o.kind === 'ServiceAccount' && o.metadata.name === LOGGER_SETTINGS_SERVICE_ACCOUNT);
    expect(Object.keys(settings.metadata.annotations).sort()).toEqual(['eks.amazonaws.com/role-arn', 'serving.kserve.io/s3-region']);
    const sa = objects.find(o => o.kind === 'ServiceAccount' && o.metadata.name === ACCOUNT);
    // The pods' own ServiceAccount must not carry the IRSA annotation: web identity would win over Pod Identity.
    expect(sa.metadata.annotations).toBeUndefined();
  });

  test('each model has its own account and role: it reads only its own model and writes only its own payload logs', () => {
    const statementsOf = (model: string) => {
      template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'models', ServiceAccount: `model-${model}` });
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(`KServe${model}Identity`) } });
      return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    };
    const iris = JSON.stringify(statementsOf('iris'));
    expect(iris).toContain(':s3:::bucket/team/models/iris/v1/*');
    expect(iris).toContain('/payload-logs/models/iris/*');
    expect(iris).not.toMatch(/MlflowArtifacts|churn/);
    const churnStatements = statementsOf('churn');
    const churnText = JSON.stringify(churnStatements);
    expect(churnText).toContain('/mlflow/1/models/m-9/artifacts/*');
    expect(churnText).toContain('/payload-logs/models/churn/*');
    expect(churnText).not.toMatch(/mlflow\/\*|iris/);
    const actions = churnStatements.flatMap((s: any) => [s.Action].flat()).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    for (const s of churnStatements.filter((x: any) => [x.Action].flat().some((a: string) => a.startsWith('kms:')))) {
      expect(s.Condition.StringEquals['kms:ViaService']).toBeDefined();
    }
  });

  test('the payload-log bucket is KMS-encrypted, versioned, retained and expires logs', () => {
    const buckets = template.findResources('AWS::S3::Bucket', {});
    const [id, bucket] = Object.entries(buckets).find(([k]) => k.startsWith('KServePayloadLogs'))! as [string, any];
    expect(id).toMatch(/^KServePayloadLogs/);
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' }));
  });

  test('webhook ports are open to the API server, and the policies select the chart\'s pods', () => {
    const policies = objects.filter(o => o.kind === 'NetworkPolicy' && ['cert-manager', 'kserve'].includes(o.metadata.namespace) && /webhook/.test(o.metadata.name));
    const pods = releases.flatMap(r => r.objects).filter(o => o.kind === 'Deployment');
    expect(policies.map(p => p.metadata.name).sort()).toEqual(['cert-manager-webhook', 'kserve-webhook']);
    for (const p of policies) {
      const selected = pods.filter(d => d.metadata.namespace === p.metadata.namespace
        && Object.entries(p.spec.podSelector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(selected).toHaveLength(1);
      const ports = selected[0].spec.template.spec.containers.flatMap((c: any) => c.ports ?? []).map((x: any) => x.containerPort);
      expect(ports).toContain(p.spec.ingress[0].ports[0].port);
    }
  });
});

test('a model outside every model source fails at synth: its pods could never read it', () => {
  expect(() => new MlopsStack(new App(), 'S', { kserve: { models: [{ name: 'm', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://someone-elses-bucket/iris/v1' }] } }))
    .toThrow(/S\/KServe\/models\/m: invalid prop 'storageUri' = "s3:\/\/someone-elses-bucket\/iris\/v1"; allowed: an s3:\/\/ URI under a model source/);
  expect(() => new MlopsStack(new App(), 'S', { kserve: {
    modelSourceBuckets: [{ bucketName: 'models', prefix: 'iris' }],
    models: [{ name: 'm', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris/v1', canary: { name: 'v2', storageUri: 's3://models/other/v2', trafficPercent: 10 } }],
  } })).toThrow(/invalid prop 'canary.storageUri' = "s3:\/\/models\/other\/v2"/);
  expect(() => new MlopsStack(new App(), 'S', { kserve: { modelSourceBuckets: [{ bucketName: 'Models!', prefix: 'iris' }] } }))
    .toThrow(/invalid prop 'modelSourceBuckets\[0\].bucketName' = "Models!"/);
});

test('the stack refuses a model that sets what the stack owns, or names no source', () => {
  expect(() => new MlopsStack(new App(), 'S', { kserve: { models: [{ name: 'm', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://b/m', serviceAccountName: 'x' }] } }))
    .toThrow(/S\/KServe\/models\/m: invalid prop 'serviceAccountName' = "x"; the stack sets it/);
  expect(() => new MlopsStack(new App(), 'S', { kserve: { models: [{ name: 'm' }] } }))
    .toThrow(/invalid prop 'storageUri' = undefined; a model needs storageUri and modelFormat, or mlflowModelVersion/);
  expect(() => new MlopsStack(new App(), 'S', { kserve: { models: [{ name: 'm', modelFormat: ModelFormat.SKLEARN, storageUri: 'gs://b/m' }] } }))
    .toThrow(/allowed on AWS: an s3:\/\/ URI/);
});

test('a registered MLflow version in the stack resolves onto the MLflow artifact bucket', () => {
  const stack = new MlopsStack(new App(), 'S', {
    kserve: { models: [{ name: 'churn', mlflowModelVersion: { name: 'churn', version: '2', runId: 'r1', artifactUri: 'mlflow-artifacts:/1/models/m-9/artifacts' } }] },
  });
  const i = KubernetesManifests.fromStack(stack).map(o => o.object).find(o => o.kind === 'InferenceService');
  expect(JSON.stringify(i.spec.predictor.model.storageUri)).toMatch(/s3:\/\/.*MlflowArtifacts.*\/mlflow\/1\/models\/m-9\/artifacts/);
  expect(i.metadata.annotations[LINEAGE_ANNOTATIONS.runId]).toBe('r1');
  Template.fromStack(stack);
});

test('the vendored charts are the releases the stack pins (cert-manager\'s source says v0.0.0, see test/fixtures/README.md)', () => {
  const chartYaml = (folder: string) => parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/charts', folder, 'Chart.yaml'), 'utf8'));
  for (const [chart, folder] of [[KSERVE_CRD_CHART, 'kserve-crd-v0.20.0'], [KSERVE_RESOURCES_CHART, 'kserve-resources-v0.20.0'],
    [KSERVE_RUNTIMES_CHART, 'kserve-runtime-configs-v0.20.0']] as const) {
    expect({ name: chartYaml(folder).name, version: chartYaml(folder).version }).toEqual({ name: chart.chart, version: chart.version });
  }
  expect(chartYaml('cert-manager-v1.21.1')).toMatchObject({ name: CERT_MANAGER_CHART.chart, version: 'v0.0.0' });
  expect(fs.readFileSync(path.join(ROOT, 'test/fixtures/charts/cert-manager-v1.21.1/Chart.yaml'), 'utf8')).toContain('cert-manager');
});
