import { CfnOutput, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { assertPositiveInteger, InvalidPropError, isUnresolved, reportPropsAt } from '../../constructs/core/errors';
import { ExternalSecretObject } from '../../constructs/core/external-secret';
import { StackProfile } from '../../constructs/core/profile';
import { FEAST_DEFAULTS } from '../../constructs/feast/defaults';
import { FeastFeatureStore, FeastProvider, FeastRedisType } from '../../constructs/feast/feast-feature-store';
import { guardStackAgainstClashes } from '../core/clashes';
import { createDataBucket, createDataKey, grantPrefixAccess, prefixPodIdentity, useBucketPolicyForAccessLogs } from '../core/buckets';
import { ComponentPlatform, resolvePlatform } from '../core/platform';
import { generatedPassword } from '../core/generated-secret';
import { stableIdentifier } from '../core/identifiers';
import { acknowledgeAt, awsSolutions } from '../core/nag';
import { PodIdentityRole } from '../core/pod-identity';
import { createOnlineStoreUsers } from './online-store-users';

/** What a user chooses about Feast; the stack supplies the rest (`FeastProps`). */
export interface FeastOptions {
  /**
   * Name of Feast's Kubernetes objects; the online store's password Secrets are `<name>-online-store`
   * (the read-only user of the server and clients) and `<name>-online-store-writer` (materialization).
   * @default 'feast'
   */
  readonly name?: string;
  /**
   * Namespace of Feast, its own (Pod Security "restricted", default-deny ingress).
   * @default 'feast'
   */
  readonly namespace?: string;
  /**
   * Feast project name.
   * @default 'mlops'
   */
  readonly project?: string;
  /**
   * Namespaces whose pods labelled `feast.cdk-mlops-stack.io/client: "true"` may reach the feature server.
   * @default - Feast's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * ElastiCache node type of the online store, e.g. `cache.r7g.large` for more memory.
   * @default - cache.t4g.micro in DEVELOPMENT, cache.m7g.large in PRODUCTION
   */
  readonly cacheNodeType?: string;
  /**
   * Nodes of the online store: one primary plus replicas in other zones.
   * @default - 1 in DEVELOPMENT, 2 in PRODUCTION (PRODUCTION refuses fewer than 2: no failover)
   */
  readonly cacheNodes?: number;
  /**
   * Identifier of the replication group, fixed so that a change only a replacement could make
   * fails instead of swapping in an empty online store.
   * @default - `<stack name>-<construct id>`, lowercased, at most 40 characters
   */
  readonly replicationGroupId?: string;
  /**
   * Cron schedule (UTC) of the materialization job.
   * @default '0 * * * *' (hourly)
   */
  readonly materializationSchedule?: string;
  /**
   * Minimum replicas of the feature server.
   * @default - 1 in DEVELOPMENT, 2 in PRODUCTION
   */
  readonly replicas?: number;
  /**
   * Maximum replicas of the feature server.
   * @default - 2 in DEVELOPMENT, 6 in PRODUCTION
   */
  readonly maxReplicas?: number;
}

/** Properties of `FeastOnAws`. */
export interface FeastOnAwsProps extends FeastOptions {
  /** The platform Feast runs on. */
  readonly platform: ComponentPlatform;
}

/** Key prefixes of the data bucket: the registry file, and the parquet the offline store reads. */
export const FEAST_REGISTRY_PREFIX = 'registry';
export const FEAST_OFFLINE_PREFIX = 'offline';

const REDIS_PORT = 6379;
/** ElastiCache's replication group identifiers: a letter, then letters, digits and single hyphens, at most 40. */
const REPLICATION_GROUP_ID = /^[a-z](?!.*--)[a-z0-9-]{0,38}[a-z0-9]$/;


/** Why a pod identity's object wildcard is the narrowest grant (cdk-nag IAM5). */
const PREFIX_REASON = 'Feast reads (and the materializer writes) objects under a prefix of its own bucket; the wildcard is the prefix and nothing wider';

/**
 * Feast on EKS: the online store on ElastiCache for Valkey (TLS only; RBAC users, a read-only one
 * for the server and clients and a writer for materialization, their passwords generated in
 * Secrets Manager and delivered by External Secrets; encrypted at rest, private subnets, reachable
 * only from the cluster, snapshotted on delete), a versioned, encrypted, retained bucket for the
 * registry and the offline parquet, one pod-identity role that reads the registry (feature server)
 * and one that reads offline data and writes the registry (materialization), and the
 * `FeastFeatureStore` chart.
 */
export class FeastOnAws extends Construct {
  /** Registry (`registry/`) and offline data (`offline/`). */
  public readonly bucket: s3.Bucket;
  /** The key of the bucket, the online store and its users' passwords. */
  public readonly dataKey: kms.Key;
  /** The online store (cluster mode disabled; `redis_type: redis`). */
  public readonly onlineStore: elasticache.CfnReplicationGroup;
  /**
   * The password of the online store's `default` user, which is disabled: no pod gets it (it was
   * the AUTH token every client held before the store had users).
   */
  public readonly authToken: secretsmanager.Secret;
  /** `username` and `password` of the online store's read-only user: the feature server and clients. */
  public readonly readerPassword: secretsmanager.ISecret;
  /** `username` and `password` of the online store's writer: materialization and `feast apply`. */
  public readonly writerPassword: secretsmanager.ISecret;
  /** The role of the feature server. */
  public readonly serverIdentity: PodIdentityRole;
  /** The role of the materialization job. */
  public readonly materializerIdentity: PodIdentityRole;
  /** The Kubernetes side. */
  public readonly chart: FeastFeatureStore;
  /** The manifest applying `chart`. */
  public readonly manifest: eks.KubernetesManifest;
  /** `host:port` of the online store's primary endpoint (follows failover). */
  public readonly onlineEndpoint: string;
  /** The feature server for in-cluster clients. */
  public readonly url: string;
  /** The `feature_store.yaml` clients use, with FEAST_REDIS_USERNAME and FEAST_REDIS_PASSWORD from `readerPassword` in their environment. */
  public readonly featureStoreYaml: string;

  constructor(scope: Construct, id: string, props: FeastOnAwsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const name = props.name ?? 'feast';
    const namespace = props.namespace ?? 'feast';
    const { cluster, vpc, secrets } = props.platform;
    const { profile, accessLogsBucket } = resolvePlatform(this, props.platform);
    const cache = FEAST_DEFAULTS[profile].onlineStore;
    const nodes = props.cacheNodes ?? cache.nodes;
    assertPositiveInteger(this, 'cacheNodes', nodes);
    if (nodes > 6) throw new InvalidPropError(this, 'cacheNodes', nodes, 'allowed: 1 to 6 (a primary and up to 5 replicas)');
    if (profile === StackProfile.PRODUCTION && nodes < 2) {
      throw new InvalidPropError(this, 'cacheNodes', nodes,
        'allowed: at least 2 in PRODUCTION (a primary and a replica in another zone), so a node or zone loss fails over instead of emptying the online store');
    }
    const groupId = props.replicationGroupId ?? stableIdentifier(this, id, 40);
    if (!isUnresolved(groupId) && !REPLICATION_GROUP_ID.test(groupId)) {
      throw new InvalidPropError(this, 'replicationGroupId', groupId, props.replicationGroupId !== undefined
        ? 'allowed: 1-40 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen'
        : 'the default derived from the stack name is not a valid identifier; set replicationGroupId');
    }

    this.dataKey = createDataKey(this, 'DataKey', `Encryption of Feast data (registry, offline data, online store, AUTH token) ${this.node.path}`);
    this.bucket = createDataBucket(this, 'Data', {
      encryptionKey: this.dataKey,
      accessLogsBucket: accessLogsBucket,
      accessLogsPrefix: 'feast-data/',
    });

    // Kept under its logical ID (and retained) as the password of the disabled default user.
    this.authToken = generatedPassword(this, 'OnlineStoreAuthToken', {
      description: `AUTH token of Feast's online store (ElastiCache) ${this.node.path}`, encryptionKey: this.dataKey,
    });
    const users = createOnlineStoreUsers(this, id, this.dataKey, this.authToken);
    this.readerPassword = users.reader.secret;
    this.writerPassword = users.writer.secret;
    secrets.grantRead(this.readerPassword, namespace);
    secrets.grantRead(this.writerPassword, namespace);

    const securityGroup = new ec2.SecurityGroup(this, 'OnlineStoreSecurityGroup', {
      vpc,
      description: 'Feast online store: Redis protocol from the cluster only',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(cluster.clusterSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'Feast pods (EKS Auto Mode nodes)');
    const subnets = new elasticache.CfnSubnetGroup(this, 'OnlineStoreSubnets', {
      description: `Private subnets of Feast's online store ${this.node.path}`,
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    this.onlineStore = new elasticache.CfnReplicationGroup(this, 'OnlineStore', {
      replicationGroupId: groupId,
      replicationGroupDescription: `Feast online store ${this.node.path}`,
      // Valkey: BSD-licensed, what ElastiCache develops now, 20% below Redis OSS per node; Feast's
      // redis-py client speaks to it unchanged (docs/components/feast.md).
      engine: 'valkey',
      engineVersion: '8.1',
      cacheNodeType: props.cacheNodeType ?? cache.nodeType,
      numCacheClusters: nodes,
      automaticFailoverEnabled: nodes > 1,
      multiAzEnabled: nodes > 1,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: this.dataKey.keyArn,
      // Users instead of one AUTH token: the server and clients may only read.
      userGroupIds: [users.group.ref],
      snapshotRetentionLimit: cache.snapshotDays,
      autoMinorVersionUpgrade: true,
    });
    this.onlineStore.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
    this.onlineEndpoint = `${this.onlineStore.attrPrimaryEndPointAddress}:${this.onlineStore.attrPrimaryEndPointPort}`;

    const passwordSecret = `${name}-online-store`;
    const writerSecret = `${name}-online-store-writer`;
    const app = new cdk8s.App();
    this.chart = reportPropsAt(this, () => new FeastFeatureStore(app, 'Feast', {
      namespace,
      name,
      profile,
      project: props.project ?? 'mlops',
      provider: FeastProvider.AWS,
      registryPath: `s3://${this.bucket.bucketName}/${FEAST_REGISTRY_PREFIX}/registry.pb`,
      onlineStore: {
        connectionString: this.onlineEndpoint,
        redisType: FeastRedisType.REDIS,
        tls: true,
        username: users.reader.username,
        passwordSecretName: passwordSecret,
        writer: { username: users.writer.username, passwordSecretName: writerSecret },
      },
      awsRegion: Stack.of(this).region,
      replicas: props.replicas,
      maxReplicas: props.maxReplicas,
      materialization: { schedule: props.materializationSchedule },
      clientNamespaces: props.clientNamespaces,
    }), p => (p === 'materialization.schedule' ? 'materializationSchedule' : p));
    for (const [esId, secretName, secret] of [['OnlineStorePassword', passwordSecret, this.readerPassword],
      ['OnlineStoreWriterPassword', writerSecret, this.writerPassword]] as const) {
      new ExternalSecretObject(this.chart, esId, {
        namespace, secretName, remoteSecret: secret.secretArn, component: 'feast', keys: [{ secretKey: 'password', property: 'password' }],
      });
    }
    this.url = this.chart.url;
    this.featureStoreYaml = this.chart.featureStoreYaml;

    const data = { bucket: this.bucket, encryptionKey: this.dataKey };
    this.serverIdentity = prefixPodIdentity(this, 'ServerIdentity', {
      cluster, namespace, serviceAccount: this.chart.serviceAccount.name,
      description: 'Feast feature server: reads the registry',
    }, PREFIX_REASON, { ...data, prefix: FEAST_REGISTRY_PREFIX, write: false });
    this.materializerIdentity = prefixPodIdentity(this, 'MaterializerIdentity', {
      cluster, namespace, serviceAccount: this.chart.materializerServiceAccount.name,
      description: 'Feast materialization: reads offline data, reads and writes the registry',
    }, PREFIX_REASON, { ...data, prefix: FEAST_OFFLINE_PREFIX, write: false }, { ...data, prefix: FEAST_REGISTRY_PREFIX, write: true });

    this.manifest = cluster.addCdk8sChart(`${id}Chart`, this.chart);
    this.manifest.node.addDependency(this.serverIdentity.association, this.materializerIdentity.association,
      this.onlineStore, secrets.storeFor(namespace));

    new CfnOutput(this, 'FeatureStoreYaml', {
      description: 'feature_store.yaml for Feast clients; set FEAST_REDIS_USERNAME and FEAST_REDIS_PASSWORD from the secret in OnlineStorePasswordSecret',
      value: Fn.base64(this.featureStoreYaml),
    });
    new CfnOutput(this, 'OnlineStorePasswordSecret', {
      description: 'Secrets Manager secret of the online store\'s read-only user (keys "username", "password")',
      value: this.readerPassword.secretName,
    });
    new CfnOutput(this, 'OnlineStoreEndpoint', { description: 'host:port of the online store (TLS)', value: this.onlineEndpoint });

    this.acknowledgeFindings(profile);
  }

  /**
   * Lets `grantee` (a role of this app) read the offline store's parquet (`offline/`), e.g. a
   * training job that builds its frame from the same files as materialization.
   */
  public grantReadOfflineStore(grantee: iam.IGrantable): iam.Grant {
    return grantPrefixAccess(grantee, { bucket: this.bucket, encryptionKey: this.dataKey, prefix: FEAST_OFFLINE_PREFIX, write: false }, PREFIX_REASON);
  }

  /** Lets `grantee` (a role of this app) also write the offline store's parquet, e.g. a pipeline's feature step. */
  public grantReadWriteOfflineStore(grantee: iam.IGrantable): iam.Grant {
    return grantPrefixAccess(grantee, { bucket: this.bucket, encryptionKey: this.dataKey, prefix: FEAST_OFFLINE_PREFIX, write: true }, PREFIX_REASON);
  }

  /** Lets `grantee` (a role of this app) read and write the registry, as `feast apply` does. */
  public grantReadWriteRegistry(grantee: iam.IGrantable): iam.Grant {
    return grantPrefixAccess(grantee, { bucket: this.bucket, encryptionKey: this.dataKey, prefix: FEAST_REGISTRY_PREFIX, write: true }, PREFIX_REASON);
  }

  private acknowledgeFindings(profile: StackProfile): void {
    acknowledgeAt(this.authToken, 'Resource',
      'The disabled default user\'s password: no one signs in with it, so rotating it protects nothing',
      awsSolutions('SMG4'));
    for (const secret of [this.readerPassword, this.writerPassword]) {
      acknowledgeAt(secret, 'Resource',
        'A password rotated under running pods locks them out until they restart; ElastiCache users take two passwords, so rotate by adding the new one, rolling the pods, then removing the old (docs/components/feast.md)',
        awsSolutions('SMG4'));
    }
    acknowledgeAt(this, 'OnlineStore',
      'Moving Valkey off 6379 hides nothing: the security group admits only the cluster, TLS and a user\'s password are required',
      awsSolutions('AEC5'));
    acknowledgeAt(this, 'OnlineStore',
      'Authentication is by RBAC users (UserGroupIds), the successor of AUTH, so the server and clients can be read-only; the rule looks for an AuthToken only',
      awsSolutions('AEC6'));
    if (profile === StackProfile.DEVELOPMENT && (this.onlineStore.numCacheClusters ?? 1) < 2) {
      acknowledgeAt(this, 'OnlineStore',
        'DEVELOPMENT profile: one node is the cheap default; PRODUCTION runs a replica in another zone with automatic failover',
        awsSolutions('AEC4'));
    }
  }
}
