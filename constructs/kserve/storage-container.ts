import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertDnsLabel, InvalidPropError, isUnresolved } from '../core/errors';
import { standardLabels } from '../core/labels';
import { resourceValues, restrictedContainerSecurityContext } from '../core/workload';
import { imageRef, KSERVE_PYTHON } from '../versions';

/** Properties of `S3StorageContainer`. */
export interface S3StorageContainerProps {
  /**
   * Name of the ClusterStorageContainer; InferenceServices select it with `storageContainerName`.
   * @default 's3'
   */
  readonly name?: string;
  /** AWS region of the model buckets; boto3 and the storage initializer need it to sign requests. */
  readonly region: string;
  /**
   * S3-compatible endpoint (MinIO, an emulator) instead of AWS; path-style addressing is used with it.
   * @default - AWS S3
   */
  readonly endpointUrl?: string;
}

/**
 * The storage initializer for `s3://` models, as a ClusterStorageContainer that InferenceServices
 * name explicitly. KServe builds the init container from the pod's ServiceAccount only when that
 * carries an IRSA annotation; with EKS Pod Identity nothing would give it the region or an endpoint,
 * the most common reason a KServe model never loads. This container carries them, pins the
 * storage-initializer image and meets Pod Security "restricted" by itself.
 */
export class S3StorageContainer extends Construct {
  /** Name to pass as `storageContainerName`. */
  public readonly name: string;
  /** The ClusterStorageContainer object. */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: S3StorageContainerProps) {
    super(scope, id);
    this.name = props.name ?? 's3';
    assertDnsLabel(this, 'name', this.name);
    if (!props.region || (!isUnresolved(props.region) && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region))) {
      throw new InvalidPropError(this, 'region', props.region, 'allowed: an AWS region such as eu-west-1');
    }
    if (props.endpointUrl !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(props.endpointUrl)) {
      throw new InvalidPropError(this, 'endpointUrl', props.endpointUrl, 'allowed: http(s)://<host>[:<port>] of an S3-compatible endpoint');
    }
    const env = [
      // kserve-storage hands AWS_DEFAULT_REGION to boto3; AWS_REGION serves other SDKs in the image.
      { name: 'AWS_DEFAULT_REGION', value: props.region },
      { name: 'AWS_REGION', value: props.region },
      ...(props.endpointUrl ? [
        { name: 'AWS_ENDPOINT_URL', value: props.endpointUrl.replace(/\/$/, '') },
        { name: 'S3_USER_VIRTUAL_BUCKET', value: 'false' },
      ] : []),
    ];
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'ClusterStorageContainer',
      metadata: { name: this.name, labels: standardLabels('kserve', this.name) },
      spec: {
        container: {
          name: 'storage-initializer',
          image: imageRef(STORAGE_INITIALIZER_IMAGE),
          imagePullPolicy: 'IfNotPresent',
          env,
          // Downloads stream to the model volume; memory stays small whatever the model's size.
          resources: resourceValues('100m', '256Mi'),
          securityContext: { ...restrictedContainerSecurityContext(), readOnlyRootFilesystem: false },
        },
        supportedUriFormats: [{ prefix: 's3://' }],
        workloadType: 'initContainer',
      },
    });
    guardAgainstClashes(this.resource);
  }
}

/** KServe's storage initializer, of the release the stack pins. */
const STORAGE_INITIALIZER_IMAGE = { repository: 'docker.io/kserve/storage-initializer', tag: KSERVE_PYTHON.tag, release: KSERVE_PYTHON.release };
