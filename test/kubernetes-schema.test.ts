import * as fs from 'fs';
import * as path from 'path';
import * as cdk8s from 'cdk8s';
import { parse } from 'yaml';
import { AwsSecretStore, EXTERNAL_SECRETS_CHART, findClashes, InferenceService, ModelFormat, StackProfile } from '../lib';
import { standaloneCharts, stackObjects } from './support/objects';
import { podsOf, totalRequests } from '../scripts/cost/pods';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { PROFILES } from './support/synth';
import { ROOT, validateKubernetes } from './support/tools';

describe('Kubernetes objects validate strictly against Kubernetes 1.35 and the vendored CRDs', () => {
  const perProfile = stackObjects();
  const charts = perProfile.flatMap(p => p.charts);
  const objects = [...perProfile.flatMap(p => p.manifests), ...charts, ...standaloneCharts()];
  const report = validateKubernetes(objects);

  test('every object the stack, its Helm releases and the standalone charts emit is valid', () => {
    expect(report.failures).toEqual([]);
    expect(report.status).toBe(0);
    expect(report.validated).toBe(objects.length);
  });

  test('the Helm releases are rendered (the External Secrets chart with its three Deployments)', () => {
    const deployments = charts.filter(c => c.object.kind === 'Deployment').map(c => `${c.source} ${c.object.metadata.name}`);
    expect(deployments).toEqual(expect.arrayContaining(PROFILES.flatMap(p => ['external-secrets', 'external-secrets-webhook',
      'external-secrets-cert-controller'].map(name => `${p}:helm:external-secrets ${name}`))));
  });

  test('the vendored chart is the release the stack pins', () => {
    const chartYaml = parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/charts/external-secrets-2.9.0/Chart.yaml'), 'utf8'));
    expect({ name: chartYaml.name, version: chartYaml.version, appVersion: chartYaml.appVersion }).toEqual({
      name: EXTERNAL_SECRETS_CHART.chart, version: EXTERNAL_SECRETS_CHART.version, appVersion: EXTERNAL_SECRETS_CHART.appVersion,
    });
  });

  test('every pod template of the Helm releases meets Pod Security "restricted"', () => {
    const violations = charts.flatMap(c => podSpecsOf(c.object).flatMap(restrictedViolations)
      .map(v => `${c.source} ${c.object.kind}/${c.object.metadata.name}: ${v}`));
    expect(charts.flatMap(c => podSpecsOf(c.object)).length).toBeGreaterThanOrEqual(6);
    expect(violations).toEqual([]);
  });

  test('all DEVELOPMENT pods together request at most 2 vCPU and 4 GiB, and every container requests both', () => {
    const dev = perProfile[PROFILES.indexOf(StackProfile.DEVELOPMENT)];
    const objects = [...dev.manifests, ...dev.charts].map(o => o.object);
    // The reference stack declares no model; the budget holds one, as KServe's controller makes its
    // pod: the model server with the model's requests, the agent with those of the `agent` section of
    // inferenceservice-config (test_kserve_controller.py checks both against the pods the real
    // controller creates). Dagster's run pods count as if all max_concurrent_runs were running.
    const isvc = new InferenceService(new cdk8s.Chart(new cdk8s.App(), 'One'), 'Model', {
      name: 'one', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/one', storageContainerName: 's3-models',
      logger: { mode: 'all' as any, url: 's3://logs/payload-logs', path: 'predictions' },
    }).resource.toJson();
    const { pods, unrequested } = podsOf([...objects, isvc]);
    expect(pods.filter(p => p.owner === 'Dagster run').length).toBeGreaterThanOrEqual(1);
    expect(pods.filter(p => p.owner === 'InferenceService/one')).toHaveLength(1);
    // Helm hooks (cert-manager's startupapicheck) run once while a release installs, then are gone.
    expect(objects.filter(o => o.metadata.annotations?.['helm.sh/hook'] && o.kind === 'Job').map(o => o.metadata.name)).toEqual(['cert-manager-startupapicheck']);
    expect(pods.map(p => p.owner)).not.toContain('Job/cert-manager-startupapicheck');
    const total = { ...totalRequests(pods), unrequested };
    expect(total.unrequested).toEqual([]);
    expect(total.cpu).toBeGreaterThan(0);
    expect(total.cpu).toBeLessThanOrEqual(2);
    expect(total.memoryGiB).toBeLessThanOrEqual(4);
  });

  test('no Helm release emits an object the stack\'s manifests also emit', () => {
    for (const { manifests, charts: released } of perProfile) {
      expect(findClashes([...manifests, ...released].map(o => ({ object: o.object, owner: o.source })))).toEqual([]);
    }
  });

  test('the custom resources are among them (the CRD path is exercised)', () => {
    const kinds = new Set(objects.map(o => `${o.object.apiVersion}/${o.object.kind}`));
    expect(kinds).toEqual(new Set([
      'v1/Namespace', 'external-secrets.io/v1/ClusterSecretStore', 'external-secrets.io/v1/ExternalSecret',
      'apps/v1/Deployment', 'v1/Service', 'v1/ServiceAccount', 'networking.k8s.io/v1/NetworkPolicy',
      'policy/v1/PodDisruptionBudget', 'networking.k8s.io/v1/Ingress',
      'v1/ConfigMap', 'eks.amazonaws.com/v1/NodeClass', 'karpenter.sh/v1/NodePool',
      'eks.amazonaws.com/v1/IngressClassParams', 'networking.k8s.io/v1/IngressClass',
      'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding',
      'apps/v1/StatefulSet', 'batch/v1/CronJob', 'autoscaling/v2/HorizontalPodAutoscaler',
      // KServe's objects, and those of its charts and cert-manager's
      'serving.kserve.io/v1beta1/InferenceService', 'serving.kserve.io/v1alpha1/ClusterStorageContainer',
      'serving.kserve.io/v1alpha1/ClusterServingRuntime', 'cert-manager.io/v1/Issuer', 'cert-manager.io/v1/Certificate',
      'apiextensions.k8s.io/v1/CustomResourceDefinition', 'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', 'batch/v1/Job',
      // from the External Secrets chart
      'v1/Secret', 'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
      'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
      'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
    ]));
  });
});

describe('the validator rejects what the API server would reject', () => {
  const store = () => new AwsSecretStore(new cdk8s.App(), 'S', { region: 'eu-west-1', namespaces: ['a'] }).toJson()[0];
  const broken: [string, any, RegExp][] = [
    ['an unknown field in a custom resource', { ...store(), spec: { ...store().spec, refreshIntervall: 60 } }, /refreshIntervall/],
    ['a field of the wrong type in a custom resource', { ...store(), spec: { ...store().spec, conditions: 'all' } }, /conditions/],
    ['a version the CRD no longer serves', { ...store(), apiVersion: 'external-secrets.io/v1beta1' }, /unknown kind/],
    ['an unknown field in a built-in kind', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' }, spec: { finalisers: [] } }, /finalisers/],
    ['an unknown field in metadata', { ...store(), metadata: { name: 'a', label: {} } }, /label/],
    ['a kind that does not exist', { apiVersion: 'v1', kind: 'Deploymnt', metadata: { name: 'a' } }, /unknown kind/],
  ];
  // One validator run for all cases; each case is a source of its own in the report.
  const result = validateKubernetes(broken.map(([name, object]) => ({ source: name, object })));

  test('the run fails', () => expect(result.status).toBe(1));

  test.each(broken)('%s', (name, _object, message) => {
    const failure = result.failures.find(f => f.source === name);
    expect(failure).toBeDefined();
    expect(failure!.errors.join('\n')).toMatch(message);
  });
});
