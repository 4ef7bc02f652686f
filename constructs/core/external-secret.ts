import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { guardAgainstClashes } from './clashes';
import { assertDnsLabel, InvalidPropError } from './errors';
import { standardLabels } from './labels';

/** One key of the Kubernetes Secret, taken from a key of the external secret's JSON value. */
export interface ExternalSecretKey {
  /** Key in the resulting Kubernetes Secret. */
  readonly secretKey: string;
  /** JSON property of the external secret to copy (e.g. `password` of an RDS secret). */
  readonly property: string;
  /**
   * Name (or ARN) of the external secret to take this key from.
   * @default - the object's `remoteSecret`
   */
  readonly remoteSecret?: string;
}

/** Properties of an `ExternalSecretObject`. */
export interface ExternalSecretObjectProps {
  /** Namespace of the ExternalSecret and of the Kubernetes Secret it writes. */
  readonly namespace: string;
  /** Name of the Kubernetes Secret to create (and of the ExternalSecret). */
  readonly secretName: string;
  /** Name (or ARN) of the secret in the external store. */
  readonly remoteSecret: string;
  /**
   * Keys to copy; each must name a JSON property of the remote secret.
   * @default - none; then `template` must be set
   */
  readonly keys?: ExternalSecretKey[];
  /**
   * Keys of the Kubernetes Secret rendered by ESO's template engine (v2, Go templates) from all
   * JSON properties of the remote secret, e.g. `{ uri: 'postgresql://{{ .username }}:...' }`.
   * The rendering happens in the cluster: the values never appear in a manifest.
   * @default - no templated keys
   */
  readonly template?: { [key: string]: string };
  /**
   * Name of the ClusterSecretStore to read from.
   * @default - the store of the namespace, `aws-secrets-manager-<namespace>` (`namespaceSecretStore`)
   */
  readonly storeName?: string;
  /**
   * How often ESO re-reads the external secret, so rotations reach the pods.
   * @default '1h'
   */
  readonly refreshInterval?: string;
  /** Component the secret belongs to, for its labels. */
  readonly component: string;
}

/** What the name of every ClusterSecretStore the stack installs starts with. */
export const SECRET_STORE_PREFIX = 'aws-secrets-manager';

/**
 * Name of the ClusterSecretStore that serves `namespace`, and only it: the stack installs one per
 * namespace, each reading through a role of its own.
 */
export function namespaceSecretStore(namespace: string): string {
  return `${SECRET_STORE_PREFIX}-${namespace}`;
}

/**
 * An External Secrets `ExternalSecret` (external-secrets.io/v1): the only way a secret value
 * reaches a pod in this library. The manifest names the remote secret; the value itself never
 * appears in a synthesized file.
 */
export class ExternalSecretObject extends ApiObject {
  constructor(scope: Construct, id: string, props: ExternalSecretObjectProps) {
    super(scope, id, {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: {
        name: props.secretName,
        namespace: props.namespace,
        labels: standardLabels(props.component, props.secretName),
      },
      spec: {
        refreshInterval: props.refreshInterval ?? '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: props.storeName ?? namespaceSecretStore(props.namespace) },
        target: {
          name: props.secretName,
          creationPolicy: 'Owner',
          deletionPolicy: 'Retain',
          ...(props.template ? { template: { engineVersion: 'v2', mergePolicy: 'Replace', data: props.template } } : {}),
        },
        ...(props.keys?.length ? {
          data: props.keys.map(k => ({ secretKey: k.secretKey, remoteRef: { key: k.remoteSecret ?? props.remoteSecret, property: k.property } })),
        } : {}),
        ...(props.template ? { dataFrom: [{ extract: { key: props.remoteSecret } }] } : {}),
      },
    });
    assertDnsLabel(this, 'namespace', props.namespace);
    assertDnsLabel(this, 'secretName', props.secretName);
    guardAgainstClashes(this);
    if (!props.keys?.length && !Object.keys(props.template ?? {}).length) {
      throw new InvalidPropError(this, 'keys', props.keys ?? [], 'allowed: at least one key to copy, or a template');
    }
  }
}
