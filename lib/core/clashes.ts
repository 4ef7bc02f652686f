import { CfnResource, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { addValidationOnce, findClashes, OwnedObject } from '../../constructs/core/clashes';
import { parseManifest } from './manifests';

/**
 * Makes synth of the stack that holds `scope` fail when two Kubernetes objects it applies through
 * EKS manifests (`addManifest`, `addCdk8sChart`) share group, kind, namespace and name, naming both
 * manifests. Each component of the library calls it; the check is registered once per stack.
 */
export function guardStackAgainstClashes(scope: IConstruct): void {
  const stack = Stack.of(scope);
  addValidationOnce(stack, 'stack-clash-guard', () => findClashes(appliedObjects(stack)));
}

/** Every object the stack's EKS manifests apply, with the manifest construct that applies it. */
function appliedObjects(stack: Stack): OwnedObject[] {
  return stack.node.findAll()
    .filter((c): c is eks.KubernetesManifest => c instanceof eks.KubernetesManifest && Stack.of(c) === stack)
    .flatMap(manifest => {
      const resource = manifest.node.tryFindChild('Resource')?.node.defaultChild;
      // aws-cdk-lib keeps the manifest only as the custom resource's property; read it back there.
      const property = resource instanceof CfnResource ? (resource as any)._cfnProperties?.Manifest : undefined;
      if (property === undefined) {
        throw new Error(`${manifest.node.path}: cannot read the manifest of this KubernetesManifest (aws-cdk-lib changed its layout)`);
      }
      return parseManifest(stack.resolve(property)).map(object => ({ object, owner: manifest.node.path }));
    });
}
