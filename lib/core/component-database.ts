import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { InvalidPropError, isUnresolved } from '../../constructs/core/errors';
import { ExternalSecretObject } from '../../constructs/core/external-secret';
import { standardLabels } from '../../constructs/core/labels';
import { StackProfile } from '../../constructs/core/profile';
import { acknowledgeAt, awsSolutions, constructAt, managedPolicyFinding } from './nag';
import { ISecretDelivery } from './platform';
import { profileDefaults } from './profile';

/**
 * One component's PostgreSQL database on its own RDS instance, and the Kubernetes Secrets that
 * carry its credentials, for every component that keeps state in PostgreSQL (MLflow, Dagster).
 *
 * Own instance per component, not databases on a shared one: a runaway event log or migration of
 * one component cannot exhaust the connections, storage or IOPS of another, each is upgraded,
 * snapshotted and restored on its own schedule, and a restore rolls back one component only.
 * The cost is one more `db.t4g.micro` per component in DEVELOPMENT (the README's profile table).
 *
 * The resources are created in the component's own scope under fixed ids (`Database`,
 * `Parameters`, `DatabaseServerCredentials`), so their logical IDs are those MLflow always had.
 */

/** Characters that would need escaping in a URI's userinfo are left out of generated passwords. */
export const URI_UNSAFE = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\^=,';

/** What `createComponentDatabase` makes. */
export interface ComponentDatabaseOptions {
  /** The component's name for people (descriptions, reasons), e.g. `MLflow`. */
  readonly component: string;
  /** The database the component owns. */
  readonly databaseName: string;
  /** User name of the RDS master user (it creates the component's role, nothing else uses it). */
  readonly masterUsername: string;
  /**
   * The component's own PostgreSQL role, which owns the database. Fixed per component, not derived
   * from a prop: renaming must not create a second role beside the owner of the tables.
   */
  readonly serverRole: string;
  readonly cluster: eks.ICluster;
  readonly vpc: ec2.IVpc;
  readonly secrets: ISecretDelivery;
  /** Namespace of the component's pods, whose secret store reads the credentials. */
  readonly namespace: string;
  readonly profile: StackProfile;
  /** Key of the component's data; encrypts both credentials secrets. */
  readonly encryptionKey: kms.IKey;
  readonly instanceIdentifier: string;
  /** Whether the user chose the identifier (for the error message). */
  readonly instanceIdentifierGiven: boolean;
  readonly instanceType?: ec2.InstanceType;
}

/** A component's database: the instance (with its master secret) and the server role's credentials. */
export interface ComponentDatabase {
  readonly instance: rds.DatabaseInstance;
  /** `username` (the server role) and `password`. */
  readonly serverCredentials: secretsmanager.Secret;
  readonly databaseName: string;
}

/** RDS for PostgreSQL 17, sized by profile, TLS-only, encrypted, private, snapshotted on delete. */
export function createComponentDatabase(scope: Construct, o: ComponentDatabaseOptions): ComponentDatabase {
  const defaults = profileDefaults(o.profile);
  const db = defaults.database;
  assertInstanceIdentifier(scope, o.instanceIdentifier, o.instanceIdentifierGiven);
  const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 });
  const instance = new rds.DatabaseInstance(scope, 'Database', {
    instanceIdentifier: o.instanceIdentifier,
    engine,
    instanceType: o.instanceType ?? new ec2.InstanceType(db.instanceType),
    vpc: o.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    databaseName: o.databaseName,
    credentials: rds.Credentials.fromGeneratedSecret(o.masterUsername, { excludeCharacters: URI_UNSAFE, encryptionKey: o.encryptionKey }),
    multiAz: db.multiAz,
    allocatedStorage: db.allocatedStorageGiB,
    maxAllocatedStorage: db.allocatedStorageGiB * 10,
    storageType: rds.StorageType.GP3,
    storageEncrypted: true,
    backupRetention: Duration.days(db.backupRetentionDays),
    deletionProtection: defaults.deletionProtection,
    removalPolicy: RemovalPolicy.SNAPSHOT,
    enablePerformanceInsights: db.performanceInsights,
    ...(db.monitoringIntervalSeconds > 0 ? { monitoringInterval: Duration.seconds(db.monitoringIntervalSeconds) } : {}),
    iamAuthentication: true,
    autoMinorVersionUpgrade: true,
    copyTagsToSnapshot: true,
    parameterGroup: new rds.ParameterGroup(scope, 'Parameters', {
      engine,
      parameters: { 'rds.force_ssl': '1' },
    }),
  });
  if (db.monitoringIntervalSeconds > 0) {
    acknowledgeAt(instance, 'MonitoringRole/Resource',
      'The AWS managed policy for RDS Enhanced Monitoring is the documented one; it only writes the RDSOSMetrics log group',
      managedPolicyFinding('service-role/AmazonRDSEnhancedMonitoringRole'));
  }
  // The password lives only here; losing the secret with the stack would lock the snapshot out.
  // (instance.secret is the attachment; the secret itself is the construct below it.)
  (constructAt(instance, 'Secret') as secretsmanager.Secret).applyRemovalPolicy(RemovalPolicy.RETAIN);
  instance.connections.allowDefaultPortFrom(o.cluster.clusterSecurityGroup, `${o.component} pods (EKS Auto Mode nodes)`);
  o.secrets.grantRead(instance.secret!, o.namespace);

  // The component's own role: its password is generated here; the db-bootstrap init container
  // creates the role with it (as the master user, whose credentials reach only that container).
  const serverCredentials = new secretsmanager.Secret(scope, 'DatabaseServerCredentials', {
    description: `PostgreSQL role of the ${o.component} server (owns database ${o.databaseName} only) ${scope.node.path}`,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: o.serverRole }),
      generateStringKey: 'password', excludeCharacters: URI_UNSAFE, passwordLength: 32,
    },
    encryptionKey: o.encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  o.secrets.grantRead(serverCredentials, o.namespace);

  acknowledgeAt(serverCredentials, 'Resource',
    `db-bootstrap sets this password on the role at every pod start; rotate it with a rollout instead (docs/components/${o.component.toLowerCase()}.md)`,
    awsSolutions('SMG4'));
  acknowledgeAt(instance, 'Secret/Resource',
    `Rotating the master password would change it under running ${o.component} pods, which read it at start; rotate with a rollout instead (docs/components/${o.component.toLowerCase()}.md)`,
    awsSolutions('SMG4'));
  acknowledgeAt(instance, 'Resource',
    'Moving PostgreSQL off 5432 hides nothing: the security group admits only the cluster, and TLS is required',
    awsSolutions('RDS11'));
  if (o.profile === StackProfile.DEVELOPMENT) {
    acknowledgeAt(instance, 'Resource',
      'DEVELOPMENT profile: a single-AZ instance is the cheap default; PRODUCTION runs Multi-AZ',
      awsSolutions('RDS3'));
    acknowledgeAt(instance, 'Resource',
      'DEVELOPMENT profile: deletion protection is off so test stacks can be torn down; the instance is still snapshotted on delete',
      awsSolutions('RDS10'));
  }
  return { instance, serverCredentials, databaseName: o.databaseName };
}

/** The Kubernetes side of a component's database credentials. */
export interface DatabaseSecretsOptions {
  readonly namespace: string;
  /** Label value `app.kubernetes.io/name` of the objects. */
  readonly component: string;
  /** Secret for the component: the server role's credentials and the endpoint, plus `template` keys. */
  readonly secretName: string;
  /**
   * Keys rendered by ESO from the server role's `username` and `password` and the master secret's
   * `host` and `port` (Go templates), e.g. a URI.
   */
  readonly template: { [key: string]: string };
  /** Secret with the master credentials, for the db-bootstrap init container only. */
  readonly adminSecretName: string;
  /** ConfigMap with the server's CA bundle (key `ca.pem`), when one is given. */
  readonly caConfigMapName?: string;
  readonly caCertificates?: string;
}

/** ExternalSecrets (and the CA ConfigMap) that bring a component's database credentials to its pods. */
export function addDatabaseSecrets(chart: Chart, db: ComponentDatabase, o: DatabaseSecretsOptions): void {
  new ExternalSecretObject(chart, 'DatabaseUri', {
    namespace: o.namespace,
    secretName: o.secretName,
    remoteSecret: db.serverCredentials.secretArn,
    component: o.component,
    // The endpoint comes from the master secret, the credentials from the server's own.
    keys: ['host', 'port'].map(key => ({ secretKey: key, property: key, remoteSecret: db.instance.secret!.secretArn })),
    template: o.template,
  });
  if (o.caCertificates !== undefined && o.caConfigMapName !== undefined) {
    new ApiObject(chart, 'DatabaseCa', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: o.caConfigMapName, namespace: o.namespace, labels: standardLabels(o.component, o.caConfigMapName) },
      data: { 'ca.pem': o.caCertificates },
    });
  }
  new ExternalSecretObject(chart, 'DatabaseAdmin', {
    namespace: o.namespace,
    secretName: o.adminSecretName,
    remoteSecret: db.instance.secret!.secretArn,
    component: o.component,
    keys: ['username', 'password'].map(key => ({ secretKey: key, property: key })),
  });
}

/** RDS identifiers: a letter, then letters, digits and single hyphens, at most 63, no trailing hyphen. */
const INSTANCE_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;

function assertInstanceIdentifier(scope: Construct, identifier: string, given: boolean): void {
  if (isUnresolved(identifier) || INSTANCE_IDENTIFIER.test(identifier)) return;
  throw new InvalidPropError(scope, 'databaseInstanceIdentifier', identifier, given
    ? 'allowed: 1-63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen'
    : 'the default derived from the stack name is not a valid RDS identifier; set databaseInstanceIdentifier');
}

/** Throws unless `pem` is one or more PEM certificates of at most 64 KiB. */
export function assertCaBundle(scope: Construct, pem: string): void {
  if (isUnresolved(pem)) return;
  const certificates = (pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g) ?? []).length;
  const size = Buffer.byteLength(pem);
  if (certificates === 0 || size > 64 * 1024) {
    throw new InvalidPropError(scope, 'databaseCaCertificates', `${certificates} PEM certificate(s), ${size} bytes`,
      'allowed: one or more PEM certificates, at most 64 KiB (the regional RDS bundle, not the global one)');
  }
}
