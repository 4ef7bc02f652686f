/** The value of `app.kubernetes.io/part-of` on every object the library creates. */
export const PART_OF = 'cdk-mlops-stack';

/**
 * The recommended Kubernetes labels (app.kubernetes.io/*) for one component, so every object of
 * the stack can be selected by `part-of`, and each component by `name` and `instance`.
 */
export function standardLabels(component: string, instance: string, version?: string): Record<string, string> {
  return {
    ...selectorLabels(component, instance),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': 'cdk8s',
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
}

/**
 * The subset of `standardLabels` that identifies one instance of a component: selectors use it,
 * because it never changes when the version does.
 */
export function selectorLabels(component: string, instance: string): Record<string, string> {
  return { 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': instance };
}
