/**
 * The pod KServe v0.20 makes of an InferenceService's predictor, assembled from the objects that
 * feed it, the way its controller and pod webhook do (pkg/controller/v1beta1/inferenceservice,
 * pkg/webhook/admission/pod at v0.20.0):
 * - pod-level fields come from the predictor (security context, ServiceAccount, node selector);
 * - `kserve-container` is the ClusterServingRuntime's container with the predictor's model
 *   container merged over it (resources, env);
 * - the storage initializer is the init container of the ClusterStorageContainer the predictor
 *   names, else the one matching its URI scheme;
 * - with a logger, the `agent` container copies kserve-container's security context and takes its
 *   image and resources from the `agent` section of ConfigMap `inferenceservice-config`.
 */
export function modelPods(isvc: any, clusterObjects: any[]): any[] {
  const runtimes = clusterObjects.filter(o => o.kind === 'ClusterServingRuntime');
  const storageContainers = clusterObjects.filter(o => o.kind === 'ClusterStorageContainer');
  const config = clusterObjects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'inferenceservice-config');
  if (!config) throw new Error('modelPods: no inferenceservice-config among the objects');
  const agent = JSON.parse(config.data.agent);
  const predictors = [isvc.spec.predictor, ...(isvc.spec.canary ?? []).map((c: any) => c.predictor)];
  return predictors.map(predictor => {
    const model = predictor.model;
    const runtime = runtimes.find(r => r.metadata.name === model.runtime);
    if (!runtime) throw new Error(`modelPods: ${isvc.metadata.name} names runtime ${model.runtime}, which is not installed`);
    const base = runtime.spec.containers[0];
    const server = {
      ...base,
      name: 'kserve-container',
      resources: model.resources ?? base.resources,
      securityContext: { ...base.securityContext, ...model.securityContext },
    };
    const scheme = model.storageUri.replace(/:\/\/.*/, '://');
    const storage = predictor.storageContainerName
      ? storageContainers.find(s => s.metadata.name === predictor.storageContainerName)
      : storageContainers.find(s => s.spec.supportedUriFormats.some((f: any) => f.prefix === scheme || (f.regex && new RegExp(f.regex).test(model.storageUri))));
    if (!storage) throw new Error(`modelPods: no ClusterStorageContainer for ${isvc.metadata.name} (${model.storageUri})`);
    const containers = [server];
    if (isvc.spec.predictor.logger) {
      containers.push({
        name: 'agent',
        image: agent.image,
        securityContext: server.securityContext,
        resources: { requests: { cpu: agent.cpuRequest, memory: agent.memoryRequest }, limits: { cpu: agent.cpuLimit, memory: agent.memoryLimit } },
      });
    }
    return {
      kind: 'Pod',
      metadata: { name: `${isvc.metadata.name}-${predictor.name ?? 'predictor'}`, namespace: isvc.metadata.namespace },
      spec: {
        serviceAccountName: predictor.serviceAccountName,
        securityContext: predictor.securityContext,
        nodeSelector: predictor.nodeSelector,
        tolerations: predictor.tolerations,
        initContainers: [{ ...storage.spec.container, name: 'storage-initializer' }],
        containers,
      },
    };
  });
}
