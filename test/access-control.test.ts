import { KubernetesManifests, StackProfile, STORE_GUARD_POLICY } from '../lib';
import { renderHelmReleases } from './support/helm';
import { synthReference } from './support/synth';

// The controls the stack relies on, checked where they are configured. Each test here failed on the
// code before the access-control review (issue #7); the contract suite proves the RBAC and admission
// parts on a real API server (test/contract/test_access_control.py).

const dev = synthReference(StackProfile.DEVELOPMENT);
const objects = KubernetesManifests.fromStack(dev.stack).map(o => o.object);
const [eso] = renderHelmReleases(dev.template.toJSON()).filter(r => r.release === 'external-secrets');

describe('External Secrets serves only the ClusterSecretStore', () => {
  const controller = eso.objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'external-secrets');
  const args: string[] = controller.spec.template.spec.containers[0].args;

  test('the controller ignores namespaced stores, push secrets and cluster-wide fan-out', () => {
    for (const flag of ['--enable-secret-store-reconciler', '--enable-push-secret-reconciler', '--enable-cluster-push-secret-reconciler',
      '--enable-cluster-external-secret-reconciler']) {
      expect({ flag, args: args.filter(a => a.startsWith(`${flag}=`)) }).toEqual({ flag, args: [`${flag}=false`] });
    }
    // The one reconciler that stays (on by default: the chart renders a flag only to turn it off).
    expect(args.filter(a => a.startsWith('--enable-cluster-store-reconciler'))).toEqual([]);
  });

  test('no role of the chart aggregates write rights on ESO objects into edit or admin', () => {
    const aggregated = eso.objects.filter(o => o.kind === 'ClusterRole' && Object.keys(o.metadata.labels ?? {})
      .some(l => /^rbac\.authorization\.k8s\.io\/aggregate-to-(edit|admin)$/.test(l)));
    expect(aggregated).toEqual([]);
    // view still aggregates (reading a store's spec reveals no secret), so the check above is not vacuous.
    expect(eso.objects.some(o => o.kind === 'ClusterRole' && o.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'] === 'true')).toBe(true);
  });

  test('an admission policy refuses namespaced AWS stores without auth, in Deny mode', () => {
    const policy = objects.find(o => o.kind === 'ValidatingAdmissionPolicy');
    expect(policy.metadata.name).toBe(STORE_GUARD_POLICY);
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConstraints.resourceRules).toEqual([expect.objectContaining({ apiGroups: ['external-secrets.io'], resources: ['secretstores'] })]);
    const binding = objects.find(o => o.kind === 'ValidatingAdmissionPolicyBinding');
    expect(binding.spec).toEqual({ policyName: STORE_GUARD_POLICY, validationActions: ['Deny'] });
  });
});

describe('the External Secrets namespace', () => {
  test('admits only the webhook port, on the webhook pods the chart renders', () => {
    const policies = objects.filter(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'external-secrets');
    expect(policies.map(p => p.metadata.name).sort()).toEqual(['default-deny-ingress', 'external-secrets-webhook']);
    const webhook = policies.find(p => p.metadata.name === 'external-secrets-webhook');
    const pod = eso.objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'external-secrets-webhook').spec.template;
    expect(pod.metadata.labels).toMatchObject(webhook.spec.podSelector.matchLabels);
    const port = pod.spec.containers[0].ports.find((p: any) => p.name === 'webhook').containerPort;
    expect(webhook.spec.ingress).toEqual([{ ports: [{ port, protocol: 'TCP' }] }]);
  });
});
