import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { standardLabels } from '../core/labels';

/** Name of the admission policy (and its binding) that refuses ambient-credential SecretStores. */
export const STORE_GUARD_POLICY = 'cdk-mlops-stack.secretstore-needs-auth';

/**
 * Refuses, at admission, a namespaced SecretStore for AWS without `auth`.
 *
 * Such a store authenticates with whatever the operator itself holds (its Pod Identity), which can
 * read every secret the stack grants the operator: any tenant allowed to create a store could copy
 * them all, bypassing the ClusterSecretStore's namespace list. The stack also turns off the
 * operator's processing of namespaced stores and the aggregation of store rights into edit/admin;
 * this policy is the layer that holds even if a chart upgrade or a hand-made RoleBinding undoes one.
 */
export class SecretStoreGuard extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const labels = standardLabels('external-secrets', STORE_GUARD_POLICY);
    new ApiObject(this, 'Policy', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: STORE_GUARD_POLICY, labels },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{
            apiGroups: ['external-secrets.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['secretstores'],
          }],
        },
        validations: [{
          expression: '!has(object.spec.provider.aws) || has(object.spec.provider.aws.auth)',
          reason: 'Forbidden',
          message: 'a namespaced SecretStore for AWS must set spec.provider.aws.auth (its own credentials or '
            + 'ServiceAccount); without it the store would use the External Secrets operator\'s identity',
        }],
      },
    });
    new ApiObject(this, 'Binding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: STORE_GUARD_POLICY, labels },
      spec: { policyName: STORE_GUARD_POLICY, validationActions: ['Deny'] },
    });
  }
}
