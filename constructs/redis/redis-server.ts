import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { guardAgainstClashes } from '../core/clashes';
import { assertDnsLabel, assertPositiveInteger, InvalidPropError } from '../core/errors';
import { selectorLabels, standardLabels } from '../core/labels';
import { clientPeers } from '../core/network';
import { resolveProfile, StackProfile } from '../core/profile';
import { clusterIpService, restrictedPodSpec, ServerIdentity, serverNetworkPolicy, serviceAccount } from '../core/server';
import { resources, restrictedContainerSecurityContext } from '../core/workload';
import { imageRef, VALKEY_IMAGE } from '../versions';

/** Label a pod must carry (value: the server's name), in a client namespace, to reach an in-cluster Redis. */
export const REDIS_CLIENT_LABEL = 'redis.cdk-mlops-stack.io/client';

/** The Redis protocol port, in the pod and on the Service. */
export const REDIS_PORT = 6379;

/** Where the append-only file lives (the PersistentVolumeClaim's mount). */
const DATA_DIR = '/data';

/** Properties of a `RedisServer`. */
export interface RedisServerProps {
  /**
   * Namespace to run in (must exist); usually that of its only client, Feast.
   * @default 'feast'
   */
  readonly namespace?: string;
  /**
   * Name of the StatefulSet, Service and ServiceAccount.
   * @default 'redis'
   */
  readonly name?: string;
  /**
   * Only DEVELOPMENT is accepted: one node has no replica to fail over to, so a production
   * online store belongs on a managed service (the AWS layer uses ElastiCache).
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /** Secret holding the password every client must send (AUTH). */
  readonly passwordSecretName: string;
  /**
   * Key of the password in that Secret.
   * @default 'password'
   */
  readonly passwordSecretKey?: string;
  /**
   * Memory of the container in MiB. Redis may use 75% of it for data (`maxmemory`); the rest is
   * for the copy-on-write of AOF rewrites. When data reaches the limit, writes fail
   * (`noeviction`) instead of features silently disappearing.
   * @default 256
   */
  readonly memoryMiB?: number;
  /**
   * Size of the volume holding the append-only file.
   * @default '2Gi'
   */
  readonly storageSize?: string;
  /**
   * StorageClass of the volume.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Namespaces whose pods labelled `redis.cdk-mlops-stack.io/client: <name>` may connect.
   * @default - the server's own namespace only
   */
  readonly clientNamespaces?: string[];
}

/**
 * One Redis-protocol server (Valkey) for clusters without a managed Redis, and for development:
 * password from a Secret, every write in an append-only file (fsync every second) on a
 * PersistentVolumeClaim that outlives the StatefulSet, probes that run PING with the password, and
 * a NetworkPolicy that admits only labelled client pods.
 */
export class RedisServer extends Chart {
  /** The StatefulSet (one replica). */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The ClusterIP Service clients connect to. */
  public readonly service: k8s.KubeService;
  /** The NetworkPolicy admitting clients. */
  public readonly networkPolicy: k8s.KubeNetworkPolicy;
  /** `name.namespace.svc:6379`, for a client's connection string. */
  public readonly endpoint: string;
  /** The pod labels that let a client in (put them on the client pods). */
  public readonly clientLabels: { [key: string]: string };

  constructor(scope: Construct, id: string, props: RedisServerProps) {
    const namespace = props.namespace ?? 'feast';
    super(scope, id, { namespace });
    const name = props.name ?? 'redis';
    const memoryMiB = props.memoryMiB ?? 256;
    assertDnsLabel(this, 'namespace', namespace);
    assertDnsLabel(this, 'name', name);
    assertDnsLabel(this, 'passwordSecretName', props.passwordSecretName);
    assertPositiveInteger(this, 'memoryMiB', memoryMiB);
    if (memoryMiB < 64) throw new InvalidPropError(this, 'memoryMiB', memoryMiB, 'allowed: at least 64');
    if ((resolveProfile(props.profile)) !== StackProfile.DEVELOPMENT) {
      throw new InvalidPropError(this, 'profile', props.profile,
        'allowed: DEVELOPMENT only; PRODUCTION needs replicas across zones with automatic failover, which one in-cluster '
        + 'Redis node cannot give (use a managed service such as ElastiCache, as the AWS layer does)');
    }
    const storageSize = props.storageSize ?? '2Gi';
    if (!/^[1-9]\d*(Mi|Gi|Ti)$/.test(storageSize)) {
      throw new InvalidPropError(this, 'storageSize', storageSize, 'allowed: a size such as 512Mi, 2Gi or 1Ti');
    }
    guardAgainstClashes(this);

    const labels = standardLabels('redis', name, VALKEY_IMAGE.release);
    const selector = selectorLabels('redis', name);
    this.endpoint = `${name}.${namespace}.svc:${REDIS_PORT}`;
    this.clientLabels = { [REDIS_CLIENT_LABEL]: name };

    const server: ServerIdentity = { name, labels, selector };
    serviceAccount(this, 'ServiceAccount', name, labels);

    const password = { secretKeyRef: { name: props.passwordSecretName, key: props.passwordSecretKey ?? 'password' } };
    // PING answers PONG only once the append-only file is loaded and the password is accepted
    // (valkey-cli sends REDISCLI_AUTH); LOADING or NOAUTH keep the pod out of the Service.
    const ping = { exec: { command: ['sh', '-c', 'test "$(valkey-cli -p 6379 ping)" = PONG'] } };
    const container: k8s.Container = {
      name: 'redis',
      image: imageRef(VALKEY_IMAGE),
      command: ['valkey-server'],
      args: [
        '--port', String(REDIS_PORT),
        // Expanded by the kubelet; the server then replaces its process title, hiding the value.
        '--requirepass', '$(REDIS_PASSWORD)',
        '--appendonly', 'yes',
        '--appendfsync', 'everysec',
        // The append-only file alone is the persistence: no second copy as RDB snapshots.
        '--save', '',
        '--dir', DATA_DIR,
        '--maxmemory', `${Math.floor(memoryMiB * 0.75)}mb`,
        '--maxmemory-policy', 'noeviction',
      ],
      env: [{ name: 'REDIS_PASSWORD', valueFrom: password }, { name: 'REDISCLI_AUTH', valueFrom: password }],
      ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
      // A large append-only file takes a while to load: up to 5 minutes before liveness counts.
      startupProbe: { ...ping, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
      readinessProbe: { ...ping, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
      resources: resources('100m', `${memoryMiB}Mi`),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [{ name: 'data', mountPath: DATA_DIR }],
    };

    this.statefulSet = new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { name, labels },
      spec: {
        replicas: 1,
        serviceName: name,
        selector: { matchLabels: selector },
        // Deleting or scaling the StatefulSet keeps the data; only deleting the claim removes it.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels },
          spec: restrictedPodSpec(name, { containers: [container] }),
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(props.storageClassName ? { storageClassName: props.storageClassName } : {}),
            resources: { requests: { storage: k8s.Quantity.fromString(storageSize) } },
          },
        }],
      },
    });

    this.service = clusterIpService(this, server, 'redis', REDIS_PORT);
    this.networkPolicy = serverNetworkPolicy(this, server, REDIS_PORT,
      clientPeers(this, 'clientNamespaces', props.clientNamespaces ?? [namespace], this.clientLabels));
  }
}
