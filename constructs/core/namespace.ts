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
