import { Construct } from 'constructs';
import { InvalidPropError, isUnresolved } from '../core/errors';
import { InferenceService, InferenceServiceOptions, LINEAGE_PREFIX, ModelCanary } from './inference-service';
import { ModelFormat } from './runtimes';

/** The lineage annotations an InferenceService of a registered model carries. */
export const LINEAGE_ANNOTATIONS = {
  registeredModel: `${LINEAGE_PREFIX}registered-model`,
  version: `${LINEAGE_PREFIX}model-version`,
  runId: `${LINEAGE_PREFIX}run-id`,
  source: `${LINEAGE_PREFIX}model-source`,
  trackingUri: `${LINEAGE_PREFIX}tracking-uri`,
};

/** One version of a model in MLflow's registry, as `MlflowClient.get_model_version` reports it. */
export interface MlflowModelVersion {
  /** Registered model name. */
  readonly name: string;
  /** Version number, as a string (`"3"`). */
  readonly version: string;
  /** ID of the run that produced it (`run_id`). */
  readonly runId: string;
  /**
   * Where its files are: in MLflow 3, the artifact location of the logged model the version's
   * `source` names (`mlflow.get_logged_model(source.removeprefix("models:/")).artifact_location`),
   * `mlflow-artifacts:/<path>` with a server that proxies artifacts; or an `s3://` URI under the
   * server's artifacts destination.
   */
  readonly artifactUri: string;
}

/** Properties of `MlflowInferenceService`. */
export interface MlflowInferenceServiceProps extends InferenceServiceOptions {
  /** The registered model version to serve. */
  readonly modelVersion: MlflowModelVersion;
  /**
   * The MLflow server's `--artifacts-destination` (e.g. `s3://<bucket>/mlflow`), where
   * `mlflow-artifacts:/` paths resolve.
   */
  readonly artifactsDestination: string;
  /**
   * The tracking server's URL, recorded so a reader can open the run.
   * @default - not recorded
   */
  readonly trackingUri?: string;
  /**
   * A canary (another version's artifact URI, already resolved to storage).
   * @default - none
   */
  readonly canary?: ModelCanary;
}

/**
 * Serves one version of a model registered in MLflow, format `mlflow` (KServe's MLServer runtime,
 * protocol v2), from the MLflow artifact bucket, and records where it came from: the registered
 * name, version, run ID and artifact URI as annotations of the InferenceService. KServe copies them
 * to the model pods, and with a payload logger into every logged record, so a prediction leads back
 * to its MLflow run.
 */
export class MlflowInferenceService extends InferenceService {
  /** The storage URI the model is downloaded from. */
  public readonly storageUri: string;

  constructor(scope: Construct, id: string, props: MlflowInferenceServiceProps) {
    const v = props.modelVersion;
    const storageUri = resolveArtifactUri(`${scope.node.path}/${id}`, v?.artifactUri, props.artifactsDestination);
    for (const [prop, value] of [['modelVersion.name', v.name], ['modelVersion.version', v.version], ['modelVersion.runId', v.runId]]) {
      if (!value || !/^[\w.\- ]+$/.test(value)) {
        throw new InvalidPropError(`${scope.node.path}/${id}`, prop, value, 'allowed: the non-empty value MLflow reports (letters, digits, ".", "_", "-")');
      }
    }
    super(scope, id, {
      ...props,
      modelFormat: ModelFormat.MLFLOW,
      storageUri,
      annotations: {
        ...props.annotations,
        [LINEAGE_ANNOTATIONS.registeredModel]: v.name,
        [LINEAGE_ANNOTATIONS.version]: v.version,
        [LINEAGE_ANNOTATIONS.runId]: v.runId,
        [LINEAGE_ANNOTATIONS.source]: v.artifactUri,
        ...(props.trackingUri ? { [LINEAGE_ANNOTATIONS.trackingUri]: props.trackingUri } : {}),
      },
    });
    this.storageUri = storageUri;
  }
}

/**
 * The storage URI of an MLflow artifact URI: `mlflow-artifacts:[//host]/<path>` becomes
 * `<destination>/<path>`; an `s3://` URI must already lie under the destination.
 */
function resolveArtifactUri(where: string, uri: string, destination: string): string {
  const dest = (destination ?? '').replace(/\/+$/, '');
  if (!/^s3:\/\/[^/\s]+/.test(dest) && !isUnresolved(dest)) {
    throw new InvalidPropError(where, 'artifactsDestination', destination, 'allowed: the MLflow server\'s s3://<bucket>/<prefix>');
  }
  const proxied = /^mlflow-artifacts:(\/\/[^/]*)?\/(.+)$/.exec(uri ?? '');
  if (proxied) return `${dest}/${proxied[2].replace(/^\/+/, '')}`;
  if (typeof uri === 'string' && (uri.startsWith(`${dest}/`) || isUnresolved(dest)) && uri.startsWith('s3://')) return uri;
  throw new InvalidPropError(where, 'modelVersion.artifactUri', uri,
    `allowed: mlflow-artifacts:/<path>, or an s3:// URI under the artifacts destination ${isUnresolved(dest) ? 'of the MLflow server' : dest}; `
    + 'the storage initializer cannot read models:/ or runs:/ URIs');
}
