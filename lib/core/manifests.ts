import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ManifestSnapshot } from '../../constructs/core/snapshot';

/** The resource type under which aws-eks(-v2) applies manifests. */
export const KUBERNETES_RESOURCE_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';

/** One Kubernetes object found in a CloudFormation template. */
export interface TemplateKubernetesObject {
  /** Logical ID of the `Custom::AWSCDK-EKS-KubernetesResource` that applies it. */
  readonly logicalId: string;
  /** The object, with CloudFormation references rendered as `${Ref:Id}` / `${Id.Attr}` markers. */
  readonly object: any;
}

/**
 * Reads the Kubernetes objects a synthesized stack applies through EKS manifests, so they can be
 * validated or snapshot-tested like any cdk8s output.
 */
export class KubernetesManifests {
  /** The objects applied by a stack, in template order. */
  public static fromStack(stack: Stack): TemplateKubernetesObject[] {
    return KubernetesManifests.fromTemplate(Template.fromStack(stack).toJSON());
  }

  /** The objects applied by a CloudFormation template (as parsed JSON). */
  public static fromTemplate(template: any): TemplateKubernetesObject[] {
    const resources: Record<string, any> = template.Resources ?? {};
    const found: TemplateKubernetesObject[] = [];
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== KUBERNETES_RESOURCE_TYPE) continue;
      for (const object of parseManifest(resource.Properties?.Manifest)) {
        found.push({ logicalId, object });
      }
    }
    return found;
  }

  /**
   * The stack's Kubernetes objects as stable YAML documents for `toMatchSnapshot()`, each headed
   * by the logical ID that applies it.
   */
  public static snapshotOf(stack: Stack): string[] {
    return KubernetesManifests.fromStack(stack).map(({ logicalId, object }) =>
      `# ${logicalId}\n${ManifestSnapshot.ofObjects([object])[0]}`);
  }
}

/**
 * The objects of one `Manifest` property (resolved CloudFormation), with references rendered as
 * `${Ref:Id}` / `${Id.Attr}` markers.
 */
export function parseManifest(manifest: any): any[] {
  const objects = JSON.parse(renderIntrinsic(manifest));
  return Array.isArray(objects) ? objects : [objects];
}

/** Renders a CloudFormation value as text, writing references as markers that JSON can carry. */
function renderIntrinsic(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  if ('Ref' in value) return `\${Ref:${value.Ref}}`;
  if ('Fn::GetAtt' in value) {
    const [id, attr] = value['Fn::GetAtt'];
    return `\${${id}.${attr}}`;
  }
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'];
    return (parts as any[]).map(renderIntrinsic).join(separator);
  }
  // A Docker image asset's URI: its `${AWS::...}` variables already read as markers.
  if ('Fn::Sub' in value && typeof value['Fn::Sub'] === 'string') {
    return (value['Fn::Sub'] as string).replace(/\$\{([^}.!]+)\}/g, '${Ref:$1}');
  }
  throw new Error(`KubernetesManifests: unsupported intrinsic in a manifest: ${JSON.stringify(value).slice(0, 200)}`);
}
