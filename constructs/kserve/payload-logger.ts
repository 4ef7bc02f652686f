import { IConstruct } from 'constructs';
import { InvalidPropError, isS3Uri } from '../core/errors';

/** Which side of each prediction the payload logger records. */
export enum PayloadLogMode {
  /** Requests and responses (join them on `id`). */
  ALL = 'all',
  /** Requests only. */
  REQUEST = 'request',
  /** Responses only. */
  RESPONSE = 'response',
}

/** How the logger's marshaller writes a batch of records to S3. */
export enum PayloadLogFormat {
  /** JSON; the only format whose records carry `occurrenceTime` (event time). */
  JSON = 'json',
  /** Parquet, one file per batch; no timestamp column. */
  PARQUET = 'parquet',
  /** CSV with a header row; no timestamp column. */
  CSV = 'csv',
}

/**
 * KServe's payload logger writing every prediction straight to S3 (KServe v0.20's `logger.storage`).
 * Objects land at `<url>/<namespace>/<inference service>/predictor/<path>/<id>-<request|response>.<format>`.
 */
export interface PayloadLoggerProps {
  /** Which records to write. Required: KServe rejects a logger without a mode. */
  readonly mode: PayloadLogMode;
  /** `s3://<bucket>/<prefix>` the agent writes under (the bucket is the host, the prefix the path). */
  readonly url: string;
  /**
   * Folder under `<url>/<namespace>/<name>/predictor/`. Required: with an empty path the agent stores
   * nothing and only logs "Logger store not configured".
   */
  readonly path: string;
  /**
   * Object format.
   * @default PayloadLogFormat.JSON (event time is what drift windows need)
   */
  readonly format?: PayloadLogFormat;
  /**
   * Records per object. The agent keeps a partial batch in memory and loses it when the pod stops.
   * @default 50
   */
  readonly batchSize?: number;
  /**
   * Longest time a partial batch waits before it is written, as a Go duration (`30s`, `1m`).
   * @default '30s'
   */
  readonly batchInterval?: string;
  /**
   * Request headers copied into each record's `metadata` (canonical names, e.g. `X-Request-Id`).
   * @default - none
   */
  readonly metadataHeaders?: string[];
  /**
   * ServiceAccount KServe reads `serving.kserve.io/s3-*` annotations (region, endpoint) from to give
   * the agent its S3 settings. No pod runs as it; the pod's own ServiceAccount holds the role.
   * @default - none: the agent gets only what the pod's environment provides
   */
  readonly settingsServiceAccountName?: string;
}

const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** The `spec.predictor.logger` block KServe's validation and agent injector accept. */
export function loggerSpec(scope: IConstruct, props: PayloadLoggerProps, metadataAnnotations: string[]): any {
  if (!props.mode || !Object.values(PayloadLogMode).includes(props.mode)) {
    throw new InvalidPropError(scope, 'logger.mode', props.mode, `allowed: one of ${Object.values(PayloadLogMode).join(', ')} (KServe has no default)`);
  }
  if (!props.url || !isS3Uri(props.url)) {
    throw new InvalidPropError(scope, 'logger.url', props.url, 'allowed: s3://<bucket>[/<prefix>] (the agent writes to S3 only in this library)');
  }
  if (!props.path || !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(props.path)) {
    throw new InvalidPropError(scope, 'logger.path', props.path,
      'allowed: a non-empty relative key path (letters, digits, ".", "_", "-", "/"); without it the agent stores nothing');
  }
  const batchSize = props.batchSize ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidPropError(scope, 'logger.batchSize', batchSize, 'allowed: a whole number of records, at least 1');
  }
  const batchInterval = props.batchInterval ?? '30s';
  if (!GO_DURATION.test(batchInterval)) {
    throw new InvalidPropError(scope, 'logger.batchInterval', batchInterval, 'allowed: a Go duration such as 30s, 1m or 1m30s');
  }
  return {
    mode: props.mode,
    url: props.url.replace(/\/+$/, ''),
    batchSize,
    batchInterval,
    ...(props.metadataHeaders?.length ? { metadataHeaders: props.metadataHeaders } : {}),
    ...(metadataAnnotations.length ? { metadataAnnotations } : {}),
    storage: {
      path: props.path,
      // KServe's validation requires `key` and `parameters` whenever `storage` is set; the agent
      // reads only `parameters.format` and never uses `key`.
      key: 'unused',
      parameters: { format: props.format ?? PayloadLogFormat.JSON },
      ...(props.settingsServiceAccountName ? { serviceAccountName: props.settingsServiceAccountName } : {}),
    },
  };
}
