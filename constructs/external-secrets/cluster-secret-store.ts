import { ApiObject, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { DEFAULT_SECRET_STORE } from '../core/external-secret';
import { assertDnsLabel, InvalidPropError } from '../core/errors';
import { standardLabels } from '../core/labels';
import { SecretStoreGuard } from './store-guard';

/** Properties of an `AwsSecretStore`. */
export interface AwsSecretStoreProps extends ChartProps {
  /** AWS region of the Secrets Manager secrets (may be a CDK token such as the stack's region). */
  readonly region: string;
  /**
   * Namespaces allowed to read through the store. A ClusterSecretStore is otherwise usable from
   * every namespace, so any tenant could copy any secret the operator's role can read. A CDK list
   * token (the stack's `ExternalSecrets` passes one) is sorted and checked by whoever produces it.
   */
  readonly namespaces: string[];
  /**
   * Name of the ClusterSecretStore.
   * @default 'aws-secrets-manager'
   */
  readonly storeName?: string;
}

/**
 * A ClusterSecretStore for AWS Secrets Manager. It sets no `auth`, so the operator uses the AWS SDK
 * default chain, which on EKS is the operator ServiceAccount's Pod Identity: no static key exists.
 * A `SecretStoreGuard` comes with it, so no namespaced store can borrow that identity.
 */
export class AwsSecretStore extends Chart {
  /** The ClusterSecretStore object. */
  public readonly store: ApiObject;
  /** The admission policy refusing namespaced stores that would borrow the operator's identity. */
  public readonly guard: SecretStoreGuard;

  constructor(scope: Construct, id: string, props: AwsSecretStoreProps) {
    super(scope, id, props);
    guardAgainstClashes(this);
    if (props.namespaces.length === 0) {
      throw new InvalidPropError(this, 'namespaces', props.namespaces,
        'allowed: at least one namespace; a store that serves none is useless and one that serves all is unsafe');
    }
    props.namespaces.forEach(ns => assertDnsLabel(this, 'namespaces', ns));
    const name = props.storeName ?? DEFAULT_SECRET_STORE;
    assertDnsLabel(this, 'storeName', name);

    this.store = new ApiObject(this, 'Store', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name, labels: standardLabels('external-secrets', name) },
      spec: {
        conditions: [{ namespaces: [...props.namespaces].sort() }],
        provider: { aws: { service: 'SecretsManager', region: props.region } },
      },
    });
    this.guard = new SecretStoreGuard(this, 'Guard');
  }
}
