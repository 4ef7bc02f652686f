import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { guardAgainstClashes } from './clashes';
import { assertDnsLabel } from './errors';
import { PART_OF } from './labels';

/**
 * A Namespace whose Pod Security Admission level is "restricted" (enforced, audited and warned),
 * so the API server itself rejects any pod of the stack that is not hardened.
 */
export class RestrictedNamespace extends ApiObject {
  constructor(scope: Construct, id: string, name: string) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: {
          'app.kubernetes.io/part-of': PART_OF,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    });
    assertDnsLabel(this, 'name', name);
    guardAgainstClashes(this);
  }
}

/** Name of the NetworkPolicy that closes a component namespace to all inbound traffic. */
export const DEFAULT_DENY_POLICY = 'default-deny-ingress';

/**
 * The namespace of one component: Pod Security "restricted" and a NetworkPolicy that selects every
 * pod in it and admits nothing, so a pod is reachable only through an explicit allow (each
 * component ships its own). One component per namespace keeps a ServiceAccount, the cloud role
 * bound to it and its Secrets out of reach of every other component's pods.
 */
export class ComponentNamespace extends Construct {
  /** The Namespace object. */
  public readonly namespace: RestrictedNamespace;
  /** The default-deny ingress policy. */
  public readonly defaultDeny: ApiObject;

  constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    this.namespace = new RestrictedNamespace(this, 'Namespace', name);
    this.defaultDeny = new ApiObject(this, 'DefaultDeny', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: DEFAULT_DENY_POLICY, namespace: name, labels: { 'app.kubernetes.io/part-of': PART_OF } },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
  }
}
