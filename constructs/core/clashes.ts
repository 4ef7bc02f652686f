import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/**
 * Two objects with the same group, kind, namespace and name are one object to the API server: the
 * one applied last silently replaces the other (a second MLflow's database URI would overwrite the
 * first's). These helpers find such pairs so synth can refuse them.
 */

/** A Kubernetes object and the construct that emits it. */
export interface OwnedObject {
  /** The object as it will be applied. */
  readonly object: any;
  /** Path of the construct that emits it, named in the error. */
  readonly owner: string;
}

/**
 * Kinds without a namespace (built-in, and those of the CRDs the stack installs): a stray
 * metadata.namespace on them does not make two objects distinct. The contract test checks the
 * list against a real API server.
 */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'IngressClass', 'PriorityClass', 'RuntimeClass',
  'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'APIService', 'CSIDriver',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding',
  'ClusterSecretStore', 'ClusterExternalSecret', 'ClusterIssuer', 'ClusterServingRuntime', 'ClusterStorageContainer',
  'NodePool', 'NodeClass', 'IngressClassParams',
];
const CLUSTER_SCOPED = new Set(CLUSTER_SCOPED_KINDS);

/** Whether objects of `kind` live outside namespaces (the kinds the stack and its charts emit). */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** `group/kind namespace/name`, the identity the API server gives an object. */
export function objectIdentity(object: any): string {
  const apiVersion: string = object.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : 'core';
  const namespace = isClusterScoped(object.kind) ? '' : object.metadata?.namespace ?? 'default';
  return `${group}/${object.kind} ${namespace ? `${namespace}/` : ''}${object.metadata?.name}`;
}

/** One message per object emitted by two different constructs (or twice by one). */
export function findClashes(objects: OwnedObject[]): string[] {
  const first = new Map<string, string>();
  const messages: string[] = [];
  for (const { object, owner } of objects) {
    const identity = objectIdentity(object);
    const earlier = first.get(identity);
    if (earlier === undefined) {
      first.set(identity, owner);
    } else {
      messages.push(`${earlier} and ${owner} both emit ${identity}; the one applied last would silently replace `
        + 'the other. Give one of them another name (e.g. the component\'s `name` prop) or another namespace.');
    }
  }
  return messages;
}

/**
 * Adds `validate` to `target` unless a validation under `key` is there already, so a check that
 * many constructs ask for runs (and reports) once.
 */
export function addValidationOnce(target: IConstruct, key: string, validate: () => string[]): void {
  const marker = Symbol.for(`cdk-mlops-stack.${key}`);
  if ((target as any)[marker]) return;
  Object.defineProperty(target, marker, { value: true });
  target.node.addValidation({ validate });
}

/**
 * Makes synth of the cdk8s app that holds `scope` fail when two of its objects clash. Every chart
 * of the library calls it; the check is registered once per app, on its root.
 */
export function guardAgainstClashes(scope: IConstruct): void {
  const root = scope.node.root;
  addValidationOnce(root, 'clash-guard', () => findClashes(root.node.findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c))
    .map(o => ({
      // cdk8s gives an object without a namespace of its own that of its chart.
      object: { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace: o.metadata.namespace } },
      owner: o.node.path,
    }))));
}
