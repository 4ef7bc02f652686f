import { Lazy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { assertDnsLabel } from '../../constructs/core/errors';
import { DEFAULT_SECRET_STORE } from '../../constructs/core/external-secret';
import { standardLabels } from '../../constructs/core/labels';
import { ComponentNamespace } from '../../constructs/core/namespace';
import { NON_ROOT_ID, resourceValues, restrictedContainerSecurityContext } from '../../constructs/core/workload';
import { AwsSecretStore } from '../../constructs/external-secrets/cluster-secret-store';
import { EXTERNAL_SECRETS_CHART } from '../../constructs/versions';
import { guardStackAgainstClashes } from '../core/clashes';
import { ISecretDelivery } from '../core/platform';
import { PodIdentityRole } from '../core/pod-identity';

/** Properties of `ExternalSecrets`. */
export interface ExternalSecretsProps {
  /** Cluster to install the operator into. */
  readonly cluster: eks.ICluster;
  /**
   * Namespaces whose ExternalSecrets the ClusterSecretStore serves; add more with `serveNamespace`.
   * @default - none yet: synth fails unless one is added
   */
  readonly namespaces?: string[];
  /**
   * Namespace of the operator.
   * @default 'external-secrets'
   */
  readonly namespace?: string;
}

const SERVICE_ACCOUNT = 'external-secrets';
const RELEASE = 'external-secrets';
/** The chart's webhook port (values `webhook.port`), which the API server calls. */
const WEBHOOK_PORT = 10250;

// The chart's defaults are already hardened; we state them so a chart bump that relaxes one
// cannot slip through, and so the "restricted" namespace admits every pod. The chart renders a
// security context only when its `enabled` key is true.
const RESTRICTED_POD = { enabled: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
// A UID above the host's system range (the chart defaults to 1000); the binaries are static and
// write nothing to disk, so any UID runs them.
const RESTRICTED_CONTAINER = { enabled: true, ...restrictedContainerSecurityContext(), runAsUser: NON_ROOT_ID };

/**
 * External Secrets Operator (pinned Helm chart) plus a ClusterSecretStore for AWS Secrets Manager,
 * authenticated by EKS Pod Identity. It is the only path by which a secret reaches a pod of the
 * stack: components create `ExternalSecretObject`s and call `grantRead` for their secrets.
 */
export class ExternalSecrets extends Construct implements ISecretDelivery {
  /** The Helm release of the operator. */
  public readonly release: eks.HelmChart;
  /** Role of the operator; holds read access to exactly the secrets passed to `grantRead`. */
  public readonly identity: PodIdentityRole;
  /** The manifest holding the namespace-restricted ClusterSecretStore. */
  public readonly store: eks.KubernetesManifest;
  /** Name of the ClusterSecretStore for `ExternalSecretObject.storeName`. */
  public readonly storeName = DEFAULT_SECRET_STORE;
  private readonly served = new Set<string>();

  constructor(scope: Construct, id: string, props: ExternalSecretsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    const namespace = props.namespace ?? 'external-secrets';

    const app = new cdk8s.App();
    const nsChart = new cdk8s.Chart(app, 'Namespace');
    new ComponentNamespace(nsChart, 'Namespace', namespace);
    // Nothing but the API server needs to reach the operator: it calls the validating webhook. On EKS
    // the call comes from the control plane's network interfaces in the VPC, whose addresses are not
    // fixed, so the port is open to any source; every other port of every ESO pod stays closed.
    new ApiObject(nsChart, 'WebhookIngress', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'external-secrets-webhook', namespace, labels: standardLabels('external-secrets', RELEASE) },
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'external-secrets-webhook', 'app.kubernetes.io/instance': RELEASE } },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: WEBHOOK_PORT, protocol: 'TCP' }] }],
      },
    });
    const nsManifest = props.cluster.addCdk8sChart(`${id}Namespace`, nsChart);

    this.identity = new PodIdentityRole(this, 'Identity', {
      cluster: props.cluster,
      namespace,
      serviceAccount: SERVICE_ACCOUNT,
      description: 'External Secrets Operator: reads the stack\'s secrets from Secrets Manager',
    });

    this.release = props.cluster.addHelmChart(`${id}Chart`, {
      chart: EXTERNAL_SECRETS_CHART.chart,
      repository: EXTERNAL_SECRETS_CHART.repository,
      version: EXTERNAL_SECRETS_CHART.version,
      release: RELEASE,
      namespace,
      createNamespace: false,
      wait: true,
      values: {
        installCRDs: true,
        // Only ClusterSecretStores: a namespaced store without auth would run with the operator's
        // own identity (see SecretStoreGuard). Push and cluster-wide fan-out are unused, so off.
        processSecretStore: false,
        processPushSecret: false,
        processClusterPushSecret: false,
        processClusterExternalSecret: false,
        processClusterGenerator: false,
        // The chart's default aggregates create rights on stores and generators into the built-in
        // edit/admin roles: every namespace editor could then mint a store or an STS-token generator
        // that uses the operator's role. Reading them (view) stays.
        rbac: { aggregateToView: true, aggregateToEdit: false, aggregateToAdmin: false },
        serviceAccount: { create: true, name: SERVICE_ACCOUNT },
        podSecurityContext: RESTRICTED_POD,
        securityContext: RESTRICTED_CONTAINER,
        // Sized for the stack's few dozen secrets: the controller caches the objects it watches, the
        // webhook and the cert controller only validate and rotate one certificate. Half of each
        // limit is reserved; the rest is room for a resync's peak.
        resources: resourceValues('50m', '128Mi', '256Mi'),
        webhook: {
          port: WEBHOOK_PORT, podSecurityContext: RESTRICTED_POD, securityContext: RESTRICTED_CONTAINER, resources: resourceValues('25m', '64Mi', '128Mi'),
        },
        certController: {
          podSecurityContext: RESTRICTED_POD, securityContext: RESTRICTED_CONTAINER, resources: resourceValues('25m', '64Mi', '128Mi'),
        },
      },
    });
    this.release.node.addDependency(nsManifest);
    // The operator must have its credentials before it first reconciles a store.
    this.release.node.addDependency(this.identity.association);

    (props.namespaces ?? []).forEach(ns => this.serveNamespace(ns));
    // Resolved at synth, so a component's constructor can still add its namespace.
    const storeChart = new AwsSecretStore(app, 'Store', {
      region: Stack.of(this).region,
      namespaces: Lazy.list({ produce: () => [...this.served].sort() }),
    });
    this.node.addValidation({
      validate: () => (this.served.size === 0
        ? [`${this.node.path}: invalid prop 'namespaces' = []; allowed: at least one namespace (or a serveNamespace call): a store that serves none is useless and one that serves all is unsafe`]
        : []),
    });
    this.store = props.cluster.addCdk8sChart(`${id}Store`, storeChart);
    // The ClusterSecretStore kind only exists once the chart has installed its CRDs.
    this.store.node.addDependency(this.release);
  }

  /** Lets ExternalSecrets in `namespace` read through the store (what they read is still only what `grantRead` allows). */
  public serveNamespace(namespace: string): void {
    assertDnsLabel(this, 'namespaces', namespace);
    this.served.add(namespace);
  }

  /** Lets the operator read `secret` (and decrypt it, if it uses a customer managed key). */
  public grantRead(secret: secretsmanager.ISecret): iam.Grant {
    return secret.grantRead(this.identity);
  }
}
