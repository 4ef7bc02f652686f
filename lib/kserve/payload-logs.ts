import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { grantPrefixAccess } from '../core/buckets';

/** Where KServe's logger agents write the predictions of a model namespace. */
export interface PayloadLogsProps {
  /** Bucket of the payload logs. */
  readonly bucket: s3.IBucket;
  /**
   * Its customer managed key.
   * @default - SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
  /** Key prefix the loggers' URL points at. */
  readonly prefix: string;
  /** Namespace of the models. */
  readonly modelNamespace: string;
  /** Folder each logger writes below `<namespace>/<model>/predictor/`. */
  readonly path: string;
}

/**
 * The payload logs of one model namespace, as KServe's agent lays them out
 * (`<prefix>/<namespace>/<model>/predictor/<path>/`): what a reader of one model's predictions
 * (the drift checks) needs, and the grant to read them.
 */
export class PayloadLogs {
  /** Bucket of the payload logs. */
  public readonly bucket: s3.IBucket;
  /** Its customer managed key, if any. */
  public readonly encryptionKey?: kms.IKey;
  /** Key prefix of `url` in the bucket. */
  public readonly prefix: string;
  /** Namespace of the models. */
  public readonly modelNamespace: string;
  /** Folder each logger writes below `<namespace>/<model>/predictor/`. */
  public readonly path: string;
  /** `s3://` URL the loggers write under. */
  public readonly url: string;

  constructor(props: PayloadLogsProps) {
    this.bucket = props.bucket;
    this.encryptionKey = props.encryptionKey;
    this.prefix = props.prefix;
    this.modelNamespace = props.modelNamespace;
    this.path = props.path;
    this.url = `s3://${props.bucket.bucketName}/${props.prefix}`;
  }

  /** Key prefix of one model's records, without a trailing `/`. */
  public modelPrefix(model: string): string {
    return `${this.prefix}/${this.modelNamespace}/${model}/predictor/${this.path}`;
  }

  /** `s3://` prefix of one model's records, with a trailing `/`. */
  public modelUri(model: string): string {
    return `${this.url}/${this.modelNamespace}/${model}/predictor/${this.path}/`;
  }

  /**
   * Lets `grantee` (the role of `model`'s pods) put objects, and only put, under the model's folder
   * (`<prefix>/<namespace>/<model>/`, every component of the model): the logger agent never reads or
   * lists what it wrote (multipart above 5 MiB).
   */
  public grantWrite(grantee: iam.IGrantable, model: string): iam.Grant {
    return grantPrefixAccess(grantee, {
      bucket: this.bucket, encryptionKey: this.encryptionKey, prefix: `${this.prefix}/${this.modelNamespace}/${model}`, write: true, putOnly: true,
    }, `The logger of model ${model} writes one payload-log object per batch under the model's prefix; the wildcard is that prefix`);
  }

  /** Lets `grantee` (a role of this app) list the bucket and read the records of `model`. */
  public grantRead(grantee: iam.IGrantable, model: string): iam.Grant {
    return grantPrefixAccess(grantee, { bucket: this.bucket, encryptionKey: this.encryptionKey, prefix: this.modelPrefix(model), write: false },
      `Reads one object per logged batch under the payload-log prefix of model ${model}; the wildcard is that prefix`);
  }
}
