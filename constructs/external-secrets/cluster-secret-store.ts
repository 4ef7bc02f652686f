import { ApiObject, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { namespaceSecretStore, SECRET_STORE_PREFIX } from '../core/external-secret';
import { assertDnsLabel, assertDnsSubdomain, InvalidPropError } from '../core/errors';
import { standardLabels } from '../core/labels';
import { SecretStoreGuard } from './store-guard';

/** Properties of an `AwsSecretStore`. */
export interface AwsSecretStoreProps extends ChartProps {
  /** AWS region of the Secrets Manager secrets (may be a CDK token such as the stack's region). */
  readonly region: string;
  /**
   * Namespaces allowed to read through the store. A ClusterSecretStore is otherwise usable from
   * every namespace, so any tenant could copy any secret the store's role can read. Give each
   * namespace a store (and a role) of its own, so one namespace cannot read another's secrets.
   */
  readonly namespaces: string[];
  /**
   * ARN of the IAM role the operator assumes for every read through this store (may be a CDK token).
   * The role's policy then bounds what the namespaces can read; the operator's own identity needs
   * nothing but `sts:AssumeRole` on it.
   * @default - none: the operator reads with its own credentials (the AWS SDK's default chain), so
   * the store reads whatever the operator itself may
   */
  readonly role?: string;
  /**
   * Name of the ClusterSecretStore.
   * @default - `aws-secrets-manager-<namespace>` for a store of one namespace, else 'aws-secrets-manager'
   */
  readonly storeName?: string;
  /**
   * Also add the `SecretStoreGuard` (one per cluster: a stack with several stores adds it once).
   * @default true
   */
  readonly guard?: boolean;
}

/**
 * A ClusterSecretStore for AWS Secrets Manager, restricted to `namespaces`. With `role`, the
 * operator assumes that role for each read; without, it uses the AWS SDK default chain, which on
 * EKS is the operator ServiceAccount's Pod Identity. No static key exists either way. A
 * `SecretStoreGuard` comes with it unless `guard` is false, so no namespaced store can borrow the
 * operator's identity.
 */
export class AwsSecretStore extends Chart {
  /** The ClusterSecretStore object. */
  public readonly store: ApiObject;
  /** The admission policy refusing namespaced stores that would borrow the operator's identity. */
  public readonly guard?: SecretStoreGuard;

  constructor(scope: Construct, id: string, props: AwsSecretStoreProps) {
    super(scope, id, props);
    guardAgainstClashes(this);
    if (props.namespaces.length === 0) {
      throw new InvalidPropError(this, 'namespaces', props.namespaces,
        'allowed: at least one namespace; a store that serves none is useless and one that serves all is unsafe');
    }
    props.namespaces.forEach(ns => assertDnsLabel(this, 'namespaces', ns));
    const name = props.storeName ?? (props.namespaces.length === 1 ? namespaceSecretStore(props.namespaces[0]) : SECRET_STORE_PREFIX);
    assertDnsSubdomain(this, 'storeName', name);

    this.store = new ApiObject(this, 'Store', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name, labels: standardLabels('external-secrets', name) },
      spec: {
        conditions: [{ namespaces: [...props.namespaces].sort() }],
        provider: { aws: { service: 'SecretsManager', region: props.region, ...(props.role ? { role: props.role } : {}) } },
      },
    });
    if (props.guard ?? true) this.guard = new SecretStoreGuard(this, 'Guard');
  }
}
