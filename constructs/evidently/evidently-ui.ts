import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertDnsLabel, InvalidPropError, isS3Uri } from '../core/errors';
import { selectorLabels, standardLabels } from '../core/labels';
import { clientPeers } from '../core/network';
import { clusterIpService, restrictedPodSpec, serverNetworkPolicy, serviceAccount, ServerIdentity } from '../core/server';
import { httpProbes, NON_ROOT_ID, resources, restrictedContainerSecurityContext } from '../core/workload';
import { awsEnv } from './drift-monitor';

/** Properties of `EvidentlyUi`. */
export interface EvidentlyUiProps {
  /** Image with Evidently and s3fs: the drift job's (jobs/drift/Dockerfile). */
  readonly image: string;
  /** The workspace the drift runs are added to (`DriftMonitorProps.workspaceUri`), `s3://<bucket>/<prefix>`. */
  readonly workspaceUri: string;
  /**
   * Namespace of the UI.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Namespaces whose pods labelled `evidently.cdk-mlops-stack.io/client: "true"` may open the UI.
   * @default - the UI's own namespace only (reach it with kubectl port-forward)
   */
  readonly clientNamespaces?: string[];
  /**
   * AWS region of the workspace bucket.
   * @default - the pod's environment
   */
  readonly awsRegion?: string;
  /**
   * S3-compatible endpoint instead of AWS S3.
   * @default - AWS S3
   */
  readonly s3EndpointUrl?: string;
}

/** Label that lets a pod of a client namespace open the Evidently UI. */
export const EVIDENTLY_CLIENT_LABEL = 'evidently.cdk-mlops-stack.io/client';
const UI_PORT = 8000;

/**
 * Evidently's UI (`evidently ui`) over the workspace the drift checks add their runs to: one
 * project per model, each run a snapshot. It runs in the drift job's image (Evidently with s3fs;
 * the upstream service image has no s3fs), in-cluster only, behind a NetworkPolicy.
 */
export class EvidentlyUi extends Chart {
  /** `http://evidently-ui.<namespace>.svc:8000`. */
  public readonly url: string;
  /** The ServiceAccount the UI runs as (give it read access to the workspace). */
  public readonly serviceAccountName = 'evidently-ui';

  constructor(scope: Construct, id: string, props: EvidentlyUiProps) {
    const namespace = props.namespace ?? 'monitoring';
    super(scope, id, { namespace });
    assertDnsLabel(this, 'namespace', namespace);
    if (!isS3Uri(props.workspaceUri)) {
      throw new InvalidPropError(this, 'workspaceUri', props.workspaceUri, 'allowed: an s3://<bucket>[/<prefix>] URI');
    }
    const name = this.serviceAccountName;
    const server: ServerIdentity = { name, labels: standardLabels('evidently', name), selector: selectorLabels('evidently', name) };
    serviceAccount(this, 'ServiceAccount', name, server.labels);
    new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels: server.labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: server.selector },
        template: {
          metadata: { labels: server.labels },
          spec: restrictedPodSpec(name, {
            containers: [{
              name: 'ui',
              image: props.image,
              command: ['evidently', 'ui'],
              args: ['--host', '0.0.0.0', '--port', String(UI_PORT), '--workspace', props.workspaceUri],
              env: [...awsEnv(props.awsRegion, props.s3EndpointUrl), { name: 'DO_NOT_TRACK', value: '1' }],
              ports: [{ name: 'http', containerPort: UI_PORT, protocol: 'TCP' }],
              // `evidently ui` itself waits for this endpoint to answer before it reports ready.
              ...httpProbes('/api/version', 'http', 120),
              // The contract test measured 345 MiB resident with a project of a few runs.
              resources: resources('50m', '384Mi', '768Mi'),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }],
          }, NON_ROOT_ID),
        },
      },
    });
    clusterIpService(this, server, 'http', UI_PORT);
    serverNetworkPolicy(this, server, UI_PORT, clientPeers(this, 'clientNamespaces', props.clientNamespaces ?? [namespace], { [EVIDENTLY_CLIENT_LABEL]: 'true' }));
    guardAgainstClashes(this);
    this.url = `http://${name}.${namespace}.svc:${UI_PORT}`;
  }
}
