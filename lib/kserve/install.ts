import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { standardLabels } from '../../constructs/core/labels';
import { assertDnsLabel } from '../../constructs/core/errors';
import { ComponentNamespace } from '../../constructs/core/namespace';
import { resourceValues } from '../../constructs/core/workload';
import { DISABLED_RUNTIMES, RUNTIME_OF_FORMAT, UNSWITCHABLE_RUNTIMES } from '../../constructs/kserve/runtimes';
import { CERT_MANAGER_CHART, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART, KSERVE_RUNTIMES_CHART, PinnedChart } from '../../constructs/versions';

/** Properties of `KServeInstall`. */
export interface KServeInstallProps {
  /** Cluster to install into. */
  readonly cluster: eks.ICluster;
  /**
   * Namespace of KServe's controller.
   * @default 'kserve'
   */
  readonly namespace?: string;
  /**
   * Namespace of cert-manager.
   * @default 'cert-manager'
   */
  readonly certManagerNamespace?: string;
}

/** The port KServe's webhook server listens on in the controller pod (the chart's `webhook-server` port). */
const KSERVE_WEBHOOK_PORT = 9443;
/** cert-manager's webhook port (`webhook.securePort`). */
const CERT_MANAGER_WEBHOOK_PORT = 10250;
const RESTRICTED_SECCOMP = { seccompProfile: { type: 'RuntimeDefault' } };

/**
 * KServe in Standard mode (no Knative, no Istio) with the cert-manager it needs, as four pinned
 * Helm releases in dependency order:
 *
 *     namespaces ── cert-manager ──┐
 *     kserve-crd ── runtimes ──────┴─ kserve-resources ── (InferenceServices)
 *
 * cert-manager waits (Helm `--wait` plus its startupapicheck hook, which creates a test
 * Certificate) until its webhook really admits certificates; only then does KServe's resources
 * chart create its Issuer and Certificate. The runtimes (ClusterServingRuntimes) need only the CRDs
 * and go in before the controller exists, so KServe's validating webhook cannot refuse them while
 * its pod is still starting. InferenceServices depend on `controller` (the resources release,
 * installed with `--wait`).
 *
 * cert-manager is installed from its Helm chart, not as the EKS community add-on: the chart is the
 * one the tests render and check against Pod Security "restricted" offline, its version is pinned
 * here like every other chart of the stack, and its values (leader election in its own namespace,
 * no Prometheus port, sized requests) are ours to set; the add-on's configuration schema and
 * versions can only be read from an AWS account.
 */
export class KServeInstall extends Construct {
  /** The KServe controller release; InferenceServices must depend on it. */
  public readonly controller: eks.HelmChart;
  /** The ClusterServingRuntimes release. */
  public readonly runtimes: eks.HelmChart;
  /** The cert-manager release. */
  public readonly certManager: eks.HelmChart;
  /** The KServe CRD release. */
  public readonly crds: eks.HelmChart;
  /** Namespace of the controller. */
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: KServeInstallProps) {
    super(scope, id);
    this.namespace = props.namespace ?? 'kserve';
    const certManagerNamespace = props.certManagerNamespace ?? 'cert-manager';
    assertDnsLabel(this, 'namespace', this.namespace);
    assertDnsLabel(this, 'certManagerNamespace', certManagerNamespace);

    const nsChart = new cdk8s.Chart(new cdk8s.App(), 'Namespaces');
    new ComponentNamespace(nsChart, 'CertManager', certManagerNamespace);
    new ComponentNamespace(nsChart, 'KServe', this.namespace);
    // Only the API server calls into these namespaces: the two admission webhooks. On EKS the calls
    // come from the control plane's network interfaces, whose addresses are not fixed, so the
    // webhook ports are open to any source; every other port stays closed.
    webhookIngress(nsChart, 'CertManagerWebhook', certManagerNamespace, 'cert-manager-webhook',
      { 'app.kubernetes.io/name': 'webhook', 'app.kubernetes.io/instance': 'cert-manager' }, CERT_MANAGER_WEBHOOK_PORT);
    webhookIngress(nsChart, 'KServeWebhook', this.namespace, 'kserve-webhook',
      { 'control-plane': 'kserve-controller-manager' }, KSERVE_WEBHOOK_PORT);
    const namespaces = props.cluster.addCdk8sChart(`${id}Namespaces`, nsChart);

    const release = (releaseId: string, chart: PinnedChart, namespace: string, values: object, timeout?: Duration, createNamespace = false) =>
      props.cluster.addHelmChart(`${id}${releaseId}`, {
        chart: chart.chart,
        repository: chart.repository,
        version: chart.version,
        release: chart.chart,
        namespace,
        createNamespace,
        wait: true,
        timeout,
        values,
      });

    this.certManager = release('CertManager', CERT_MANAGER_CHART, certManagerNamespace, certManagerValues(certManagerNamespace), Duration.minutes(10));
    this.certManager.node.addDependency(namespaces);
    // The CRD chart's objects are cluster-scoped; only its release record lives in KServe's namespace.
    // Helm creates that namespace if the namespace manifest has not yet (applying the manifest to an
    // existing namespace only adds its labels), so the CRDs need not wait for it: one step less.
    this.crds = release('Crds', KSERVE_CRD_CHART, this.namespace, {}, undefined, true);
    this.runtimes = release('Runtimes', KSERVE_RUNTIMES_CHART, this.namespace, runtimeValues());
    this.runtimes.node.addDependency(this.crds);
    this.controller = release('Controller', KSERVE_RESOURCES_CHART, this.namespace, controllerValues(), Duration.minutes(10));
    this.controller.node.addDependency(this.certManager, this.crds, this.runtimes);
  }
}

function webhookIngress(chart: cdk8s.Chart, id: string, namespace: string, name: string, selector: Record<string, string>, port: number): void {
  new ApiObject(chart, id, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: standardLabels('kserve', name) },
    spec: { podSelector: { matchLabels: selector }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port, protocol: 'TCP' }] }] },
  });
}

/** cert-manager: CRDs kept on uninstall (deleting them deletes every Certificate), images pinned, sized for one issuer. */
function certManagerValues(namespace: string): object {
  // The source chart's appVersion is a placeholder (see constructs/versions.ts), so every tag is explicit.
  const tag = CERT_MANAGER_CHART.appVersion;
  return {
    crds: { enabled: true, keep: true },
    // Its default is kube-system; leases in its own namespace keep its RBAC out of kube-system.
    global: { leaderElection: { namespace } },
    prometheus: { enabled: false },
    image: { tag },
    // The chart sets no requests. With one Issuer and one Certificate the controllers stay small; the
    // limits leave room for a cluster that adds its own certificates.
    resources: resourceValues('10m', '64Mi', '256Mi'),
    webhook: { image: { tag }, resources: resourceValues('10m', '32Mi', '128Mi'), securePort: CERT_MANAGER_WEBHOOK_PORT },
    cainjector: { image: { tag }, resources: resourceValues('10m', '64Mi', '256Mi') },
    startupapicheck: { image: { tag }, resources: resourceValues('10m', '32Mi', '64Mi') },
    acmesolver: { image: { tag } },
  };
}

/** KServe's controller in Standard mode, webhooks certified by cert-manager, no ingress objects. */
function controllerValues(): object {
  return {
    kserve: {
      controller: {
        deploymentMode: 'Standard',
        // No Istio or Gateway API in the stack: clients call `<name>-predictor.<namespace>` in the cluster.
        gateway: { disableIngressCreation: true, disableIstioVirtualHost: true },
        // The chart pulls `Always` by default; the tag is pinned, so the node's copy is the same image.
        imagePullPolicy: 'IfNotPresent',
        // The chart reserves 300Mi for each container; the manager's limit stays there, the proxy in
        // front of its metrics endpoint is a small Go binary.
        resources: resourceValues('50m', '128Mi', '300Mi'),
        rbacProxy: { resources: resourceValues('5m', '24Mi', '64Mi') },
      },
      // The chart's storage initializer for the other URI schemes gets the seccomp profile it lacks.
      storage: { containerSecurityContext: RESTRICTED_SECCOMP },
    },
  };
}

/** The runtimes of `ModelFormat` enabled with "restricted" containers; the others installed but disabled. */
function runtimeValues(): object {
  const runtimes: Record<string, object> = {};
  for (const key of [...Object.values(RUNTIME_OF_FORMAT).map(r => r.valuesKey), ...UNSWITCHABLE_RUNTIMES]) runtimes[key] = { securityContext: RESTRICTED_SECCOMP };
  for (const key of DISABLED_RUNTIMES) runtimes[key] = { disabled: true, securityContext: { ...RESTRICTED_SECCOMP, runAsNonRoot: true } };
  return { kserve: { servingruntime: { enabled: true, ...runtimes } } };
}
