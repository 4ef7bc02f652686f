import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { reportPropsAt } from '../../constructs/core/errors';
import { Dagster as DagsterChart, DagsterCodeLocation } from '../../constructs/dagster/dagster';
import { DAGSTER_PG_ENV } from '../../constructs/dagster/instance-yaml';
import { guardStackAgainstClashes } from '../core/clashes';
import { addDatabaseSecrets, createComponentDatabase } from '../core/component-database';
import {
  createDataBucket, createDataKey, prefixPodIdentity, useBucketPolicyForAccessLogs,
} from '../core/buckets';
import { ComponentPlatform, resolvePlatform } from '../core/platform';
import { stableIdentifier } from '../core/identifiers';
import { PodIdentityRole } from '../core/pod-identity';

/** What a user chooses about Dagster; the stack supplies the rest (`DagsterProps`). */
export interface DagsterOptions {
  /**
   * Prefix of Dagster's Kubernetes objects; its Secrets are `<name>-db` and `<name>-db-admin`.
   * @default 'dagster'
   */
  readonly name?: string;
  /**
   * Namespace of Dagster and its run Jobs, its own (Pod Security "restricted", default-deny ingress).
   * @default 'dagster'
   */
  readonly namespace?: string;
  /**
   * The code locations (each image carries the user's code and dagster 1.13.27).
   * @default - none; add them when your code images exist
   */
  readonly codeLocations?: DagsterCodeLocation[];
  /**
   * Runs the queue starts at once.
   * @default - 1 in DEVELOPMENT, 10 in PRODUCTION
   */
  readonly maxConcurrentRuns?: number;
  /**
   * A second, read-only webserver (its own ServiceAccount, bound to nothing).
   * @default - true when `clientNamespaces` names a namespace other than Dagster's, else false
   */
  readonly readOnlyWebserver?: boolean;
  /**
   * Namespaces whose pods labelled `dagster.cdk-mlops-stack.io/client: "true"` may reach the
   * read-only webserver (Dagster's own namespace reaches both).
   * @default - Dagster's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Namespaces whose labelled pods may also reach the webserver that launches and terminates runs.
   * @default - Dagster's own namespace only
   */
  readonly operatorNamespaces?: string[];
  /**
   * Identifier of the RDS instance, fixed so that a replacing change fails instead of swapping in an empty database.
   * @default - `<stack name>-<construct id>`, lowercased (e.g. `mlopsstack-dagster`)
   */
  readonly databaseInstanceIdentifier?: string;
  /**
   * Database instance class.
   * @default - t4g.micro in DEVELOPMENT, m7g.large in PRODUCTION
   */
  readonly databaseInstanceType?: ec2.InstanceType;
  /**
   * Days compute logs are kept.
   * @default 90
   */
  readonly computeLogRetentionDays?: number;
}

/** Properties of `Dagster` on AWS. */
export interface DagsterOnAwsProps extends DagsterOptions {
  /** The platform Dagster runs on. */
  readonly platform: ComponentPlatform;
}

const DATABASE_NAME = 'dagster';
const COMPUTE_LOG_PREFIX = 'dagster/compute-logs';

/** Why a pod identity's object wildcard is the narrowest grant (cdk-nag IAM5). */
const COMPUTE_LOG_REASON = 'Dagster reads (runs write) one object per step log under the compute-log prefix of its own bucket; the wildcard is that prefix';

/**
 * Dagster on EKS: its own PostgreSQL (the component database MLflow also uses: TLS-only,
 * encrypted, snapshotted on delete, sized by profile, credentials through External Secrets), a
 * compute-log bucket (encrypted, retained, expiring logs), pod-identity roles for the webserver
 * (reads compute logs for the UI) and run pods (write them), and the `Dagster` chart. The daemon
 * gets no AWS role: it only talks to the database and the Kubernetes API.
 */
export class DagsterOnAws extends Construct {
  /** The PostgreSQL database. */
  public readonly database: rds.DatabaseInstance;
  /** The compute-log bucket. */
  public readonly computeLogBucket: s3.Bucket;
  /** The key of the bucket and the database credentials. */
  public readonly dataKey: kms.Key;
  /** The webserver's role. */
  public readonly webserverIdentity: PodIdentityRole;
  /** The run pods' role. */
  public readonly runIdentity: PodIdentityRole;
  /** Role of the read-only webserver (reads compute logs), when there is one. */
  public readonly readOnlyWebserverIdentity?: PodIdentityRole;
  /** The Kubernetes side. */
  public readonly chart: DagsterChart;
  /** The manifest applying `chart`. */
  public readonly manifest: eks.KubernetesManifest;
  /** The webserver for in-cluster clients. */
  public readonly webserverUrl: string;

  constructor(scope: Construct, id: string, props: DagsterOnAwsProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const name = props.name ?? 'dagster';
    const namespace = props.namespace ?? 'dagster';
    const { cluster, vpc, secrets } = props.platform;
    const { profile, accessLogsBucket } = resolvePlatform(this, props.platform);
    const dbSecret = `${name}-db`;
    const dbAdminSecret = `${name}-db-admin`;

    this.dataKey = createDataKey(this, 'DataKey', `Encryption of Dagster data (compute logs, credentials) ${this.node.path}`);
    const db = createComponentDatabase(this, {
      component: 'Dagster',
      databaseName: DATABASE_NAME,
      masterUsername: 'dagster',
      serverRole: 'dagster_server',
      cluster,
      vpc,
      secrets,
      namespace,
      profile,
      encryptionKey: this.dataKey,
      instanceIdentifier: props.databaseInstanceIdentifier ?? stableIdentifier(this, id, 63),
      instanceIdentifierGiven: props.databaseInstanceIdentifier !== undefined,
      instanceType: props.databaseInstanceType,
    });
    this.database = db.instance;
    this.computeLogBucket = createDataBucket(this, 'ComputeLogs', {
      encryptionKey: this.dataKey,
      accessLogsBucket: accessLogsBucket,
      accessLogsPrefix: 'dagster-compute-logs/',
      expirationDays: props.computeLogRetentionDays ?? 90,
      noncurrentVersionExpirationDays: 7,
    });

    this.chart = reportPropsAt(this, () => new DagsterChart(new cdk8s.App(), 'Dagster', {
      namespace,
      name,
      profile,
      databaseSecretName: dbSecret,
      databaseAdminSecretName: dbAdminSecret,
      computeLogBucket: this.computeLogBucket.bucketName,
      computeLogPrefix: COMPUTE_LOG_PREFIX,
      awsRegion: Stack.of(this).region,
      codeLocations: props.codeLocations,
      maxConcurrentRuns: props.maxConcurrentRuns,
      readOnlyWebserver: props.readOnlyWebserver,
      clientNamespaces: props.clientNamespaces,
      operatorNamespaces: props.operatorNamespaces,
    }));
    addDatabaseSecrets(this.chart, db, {
      namespace,
      component: 'dagster',
      secretName: dbSecret,
      adminSecretName: dbAdminSecret,
      // The variables dagster.yaml refers to, and the same connection as a URI for db-bootstrap.
      template: {
        [DAGSTER_PG_ENV.host]: '{{ .host }}',
        [DAGSTER_PG_ENV.port]: '{{ .port }}',
        [DAGSTER_PG_ENV.database]: DATABASE_NAME,
        [DAGSTER_PG_ENV.username]: '{{ .username }}',
        [DAGSTER_PG_ENV.password]: '{{ .password }}',
        [DAGSTER_PG_ENV.uri]: `postgresql://{{ .username }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/${DATABASE_NAME}?sslmode=require`,
      },
    });
    this.webserverUrl = this.chart.webserverUrl;

    const logs = { bucket: this.computeLogBucket, encryptionKey: this.dataKey, prefix: COMPUTE_LOG_PREFIX };
    this.webserverIdentity = prefixPodIdentity(this, 'WebserverIdentity', {
      cluster, namespace, serviceAccount: this.chart.serviceAccounts.webserver,
      description: 'Dagster webserver: reads compute logs',
    }, COMPUTE_LOG_REASON, { ...logs, write: false });
    // The read-only webserver shows compute logs too, as its own ServiceAccount.
    const readOnly = this.chart.serviceAccounts.readOnly;
    this.readOnlyWebserverIdentity = readOnly ? prefixPodIdentity(this, 'ReadOnlyWebserverIdentity', {
      cluster, namespace, serviceAccount: readOnly, description: 'Dagster read-only webserver: reads compute logs',
    }, COMPUTE_LOG_REASON, { ...logs, write: false }) : undefined;
    this.runIdentity = prefixPodIdentity(this, 'RunIdentity', {
      cluster, namespace, serviceAccount: this.chart.serviceAccounts.run,
      description: 'Dagster run pods: write compute logs',
    }, COMPUTE_LOG_REASON, { ...logs, write: true });

    this.manifest = cluster.addCdk8sChart(`${id}Chart`, this.chart);
    if (this.readOnlyWebserverIdentity) this.manifest.node.addDependency(this.readOnlyWebserverIdentity.association);
    this.manifest.node.addDependency(this.webserverIdentity.association, this.runIdentity.association, this.database,
      secrets.storeFor(namespace));
  }
}
