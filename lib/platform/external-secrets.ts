import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { ApiObject } from 'cdk8s';
import { Construct, IDependable } from 'constructs';
import { assertDnsLabel } from '../../constructs/core/errors';
import { namespaceSecretStore } from '../../constructs/core/external-secret';
import { standardLabels } from '../../constructs/core/labels';
import { ComponentNamespace } from '../../constructs/core/namespace';
import { NON_ROOT_ID, resourceValues, restrictedContainerSecurityContext } from '../../constructs/core/workload';
import { AwsSecretStore } from '../../constructs/external-secrets/cluster-secret-store';
import { SecretStoreGuard } from '../../constructs/external-secrets/store-guard';
import { EXTERNAL_SECRETS_CHART } from '../../constructs/versions';
import { grantStatements, keyThroughService } from '../core/buckets';
import { guardStackAgainstClashes } from '../core/clashes';
import { ISecretDelivery } from '../core/platform';
import { PodIdentityRole } from '../core/pod-identity';

/** Properties of `ExternalSecrets`. */
export interface ExternalSecretsProps {
  /** Cluster to install the operator into. */
  readonly cluster: eks.ICluster;
  /**
   * Namespaces to serve, each with a ClusterSecretStore and a role of its own; add more with `serveNamespace`.
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
 * External Secrets Operator (pinned Helm chart) plus, per namespace it serves, a ClusterSecretStore
 * for AWS Secrets Manager restricted to that namespace and an IAM role of its own, which the
 * operator assumes for every read through that store. The operator's Pod Identity may only assume
 * those roles; each role reads exactly the secrets granted to its namespace (`grantRead`), so an
 * ExternalSecret in one namespace cannot name another namespace's secret. It is the only path by
 * which a secret reaches a pod of the stack: components create `ExternalSecretObject`s and call
 * `grantRead` for their secrets.
 */
export class ExternalSecrets extends Construct implements ISecretDelivery {
  /** The Helm release of the operator. */
  public readonly release: eks.HelmChart;
  /** Role of the operator: it may only assume the stores' roles (`roleFor`), and reads nothing itself. */
  public readonly identity: PodIdentityRole;
  /** The manifest holding the `SecretStoreGuard`, in force before the operator starts. */
  public readonly guard: eks.KubernetesManifest;
  private readonly stores = new Map<string, { role: iam.Role; manifest: eks.KubernetesManifest }>();
  private readonly cluster: eks.ICluster;
  private readonly app = new cdk8s.App();

  constructor(scope: Construct, id: string, props: ExternalSecretsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    const namespace = props.namespace ?? 'external-secrets';

    this.cluster = props.cluster;
    const nsChart = new cdk8s.Chart(this.app, 'Namespace');
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
      description: 'External Secrets Operator: assumes the role of each namespace\'s secret store, and reads nothing itself',
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

    // The guard keeps the manifest id the one shared store had, so an upgrade updates it in place.
    const guardChart = new cdk8s.Chart(this.app, 'Store');
    new SecretStoreGuard(guardChart, 'Guard');
    this.guard = props.cluster.addCdk8sChart(`${id}Store`, guardChart);

    (props.namespaces ?? []).forEach(ns => this.serveNamespace(ns));
    this.node.addValidation({
      validate: () => (this.stores.size === 0
        ? [`${this.node.path}: invalid prop 'namespaces' = []; allowed: at least one namespace (or a serveNamespace call): a store that serves none is useless and one that serves all is unsafe`]
        : []),
    });
  }

  /** Gives `namespace` its store and role, once: its ExternalSecrets read through them. */
  public serveNamespace(namespace: string): void {
    this.storeOf(namespace);
  }

  /** The manifest of the store serving `namespace` (served from now on): its ExternalSecrets must be applied after it. */
  public storeFor(namespace: string): IDependable {
    return this.storeOf(namespace).manifest;
  }

  /** The role the operator assumes to read the secrets of `namespace` (served from now on). */
  public roleFor(namespace: string): iam.IRole {
    return this.storeOf(namespace).role;
  }

  /** Lets ExternalSecrets in `namespace` read `secret` (and decrypt it, if it uses a customer managed key). */
  public grantRead(secret: secretsmanager.ISecret, namespace: string): iam.Grant {
    // Both statements go to the role's own policy (the stack's keys trust the account's IAM
    // policies), not to the key's policy as Secret.grantRead would put the key part: a key policy
    // naming the role would make the key, and every database or cache it encrypts, wait for the
    // cluster the role's trust chain names.
    const statements = [new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secret.secretArn],
    })];
    if (secret.encryptionKey) statements.push(keyThroughService('secretsmanager', this, secret.encryptionKey, ['kms:Decrypt']));
    return grantStatements(this.storeOf(namespace).role, statements);
  }

  private storeOf(namespace: string) {
    const existing = this.stores.get(namespace);
    if (existing) return existing;
    assertDnsLabel(this, 'namespaces', namespace);
    const storeName = namespaceSecretStore(namespace);
    // Pod Identity's session tags are transitive, so the chained AssumeRole carries them: the
    // trust must allow sts:TagSession too (EKS user guide, "pod-id-abac").
    const role = new iam.Role(this, `StoreRole-${namespace}`, {
      description: `External Secrets: reads the secrets of namespace ${namespace} (ClusterSecretStore ${storeName})`,
      assumedBy: new iam.ArnPrincipal(this.identity.role.roleArn).withSessionTags(),
    });
    this.identity.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resources: [role.roleArn],
    }));
    const chart = new AwsSecretStore(this.app, `Store-${namespace}`, {
      region: Stack.of(this).region, namespaces: [namespace], role: role.roleArn, storeName, guard: false,
    });
    const manifest = this.cluster.addCdk8sChart(`${this.node.id}Store-${namespace}`, chart);
    // The ClusterSecretStore kind only exists once the chart has installed its CRDs.
    manifest.node.addDependency(this.release);
    const store = { role, manifest };
    this.stores.set(namespace, store);
    return store;
  }
}
