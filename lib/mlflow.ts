import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { InvalidPropError, isUnresolved } from '../constructs/core/errors';
import { cidrsOverlap } from '../constructs/core/network';
import { POD_SUBNETS } from './auto-mode-nodes';
import { ExternalSecretObject } from '../constructs/core/external-secret';
import { StackProfile } from '../constructs/core/profile';
import { standardLabels } from '../constructs/core/labels';
import { BACKEND_STORE_CA_FILE, MlflowIngressOptions, MlflowPermission, MlflowServer } from '../constructs/mlflow/mlflow-server';
import {
  createAccessLogsBucket, createDataBucket, createDataKey, prefixPodIdentity, prefixWildcardFinding,
  useBucketPolicyForAccessLogs,
} from './data-bucket';
import { guardStackAgainstClashes } from './clashes';
import { stableIdentifier } from './identifiers';
import { ExternalSecrets } from './external-secrets';
import { acknowledgeAt, awsSolutions, constructAt, managedPolicyFinding } from './nag';
import { PodIdentityRole } from './pod-identity';
import { profileDefaults } from './profile';

/** What a user chooses about MLflow; the stack supplies the rest (`MlflowProps`). */
export interface MlflowOptions {
  /**
   * Name of MLflow's Kubernetes objects (Deployment, Service, ServiceAccount, ...); its Secrets are
   * `<name>-db` and `<name>-auth`. Two instances in one namespace need different names.
   * @default 'mlflow'
   */
  readonly name?: string;
  /**
   * Namespace of MLflow, its own (Pod Security "restricted", default-deny ingress): its
   * ServiceAccount, AWS role and Secrets are then reachable only from MLflow's pods.
   * @default 'mlflow'
   */
  readonly namespace?: string;
  /**
   * Namespaces whose pods labelled `mlflow.cdk-mlops-stack.io/client: "true"` may reach MLflow.
   * @default - MLflow's own namespace only
   */
  readonly clientNamespaces?: string[];
  /**
   * Identifier of the RDS instance. It is fixed so that a change CloudFormation could only make by
   * replacing the instance fails ("already exists") instead of silently swapping in a new, empty
   * database. Stacks deployed before it existed: set it to the instance's current identifier
   * before upgrading (README, "Upgrading"), or the upgrade replaces the instance.
   * @default - `<stack name>-<construct id>`, lowercased (e.g. `mlopsstack-mlflow`)
   */
  readonly databaseInstanceIdentifier?: string;
  /**
   * PEM bundle of the CAs that sign the database's server certificate, e.g. the regional bundle
   * AWS publishes at https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem, read
   * at synth (`fs.readFileSync`). With it every MLflow container verifies the server and its name
   * (`sslmode=verify-full`); it reaches the pods as a ConfigMap. At most 64 KiB: the regional
   * bundle, not the global one, which would ride in every deploy request of the manifest.
   * @default - TLS is required (`sslmode=require`, the parameter group refuses plain connections)
   * but the server is not verified: the library cannot ship a bundle whose origin it can check
   * offline, and the region of an environment-agnostic stack is not known at synth (README)
   */
  readonly databaseCaCertificates?: string;
  /**
   * Database instance class, e.g. `ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE)`.
   * @default - t4g.micro in DEVELOPMENT, m7g.large in PRODUCTION
   */
  readonly databaseInstanceType?: ec2.InstanceType;
  /**
   * Replicas of the server.
   * @default - 1 in DEVELOPMENT, 2 in PRODUCTION
   */
  readonly replicas?: number;
  /**
   * uvicorn workers per replica.
   * @default - 2 in DEVELOPMENT, 4 in PRODUCTION
   */
  readonly workers?: number;
  /**
   * Exposes MLflow through an Ingress.
   * @default - in-cluster only
   */
  readonly ingress?: MlflowIngressOptions;
  /**
   * MLflow basic auth, with a generated admin password and session key in Secrets Manager.
   * @default - on when `ingress` is set (nothing reachable from outside the cluster is left
   * without a login), off otherwise (the NetworkPolicy limits who can connect)
   */
  readonly basicAuth?: boolean;
  /**
   * What users may do without an explicit grant, when basic auth is on.
   * @default MlflowPermission.READ
   */
  readonly defaultPermission?: MlflowPermission;
}

/** Properties of `Mlflow`. */
export interface MlflowProps extends MlflowOptions {
  /** The cluster MLflow runs on. */
  readonly cluster: eks.ICluster;
  /** The VPC of the cluster; the database goes in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** The secret path of the cluster; MLflow's database URI reaches the pods through it. */
  readonly externalSecrets: ExternalSecrets;
  /**
   * Sets database size and resilience, replicas, workers and pod resources.
   * @default StackProfile.DEVELOPMENT
   */
  readonly profile?: StackProfile;
  /**
   * Bucket for the S3 access logs of the artifact bucket.
   * @default - a new access-log bucket
   */
  readonly accessLogsBucket?: s3.IBucket;
}

const DATABASE_NAME = 'mlflow';
const ARTIFACT_PREFIX = 'mlflow';
// Characters that would need escaping in a URI's userinfo are left out of the generated password.
const URI_UNSAFE = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\^=,';

/**
 * MLflow on EKS: a PostgreSQL backend (RDS, sized by profile, TLS-only, encrypted, private,
 * reachable only from the cluster), a versioned, encrypted, retained artifact bucket that only
 * the MLflow pods can use (Pod Identity, artifact prefix only), the database URI delivered by
 * External Secrets, and the `MlflowServer` chart.
 */
export class Mlflow extends Construct {
  /** The PostgreSQL backend store. */
  public readonly database: rds.DatabaseInstance;
  /** The artifact bucket. */
  public readonly artifactBucket: s3.Bucket;
  /** The key encrypting the artifact bucket. */
  public readonly artifactKey: kms.Key;
  /** The role of the MLflow pods. */
  public readonly identity: PodIdentityRole;
  /** The Kubernetes side. */
  public readonly server: MlflowServer;
  /** The manifest applying `server` to the cluster. */
  public readonly manifest: eks.KubernetesManifest;
  /** Tracking URI for in-cluster clients. */
  public readonly trackingUri: string;
  /** The admin password (key `password`), when basic auth is on. */
  public readonly adminSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MlflowProps) {
    super(scope, id);
    guardStackAgainstClashes(this);
    useBucketPolicyForAccessLogs(this);
    const name = props.name ?? 'mlflow';
    // The namespace must exist and be served by the secret store (MlopsStack creates both).
    const namespace = props.namespace ?? 'mlflow';
    const dbSecret = `${name}-db`;
    const authSecret = `${name}-auth`;
    const dbAdminSecret = `${name}-db-admin`;
    const dbCaConfigMap = `${name}-db-ca`;
    if (props.databaseCaCertificates !== undefined) assertCaBundle(this, props.databaseCaCertificates);
    const tls = props.databaseCaCertificates !== undefined
      ? `sslmode=verify-full&sslrootcert=${BACKEND_STORE_CA_FILE}` : 'sslmode=require';
    const profile = props.profile ?? StackProfile.DEVELOPMENT;
    const defaults = profileDefaults(profile);
    const db = defaults.database;

    // One key for MLflow's data: its artifacts and the credentials of its database and login.
    this.artifactKey = createDataKey(this, 'ArtifactKey', `Encryption of MLflow data (artifacts, credentials) ${this.node.path}`);

    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 });
    const instanceIdentifier = props.databaseInstanceIdentifier ?? stableIdentifier(this, id, 63);
    assertInstanceIdentifier(this, instanceIdentifier, props.databaseInstanceIdentifier !== undefined);
    this.database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier,
      engine,
      instanceType: props.databaseInstanceType ?? new ec2.InstanceType(db.instanceType),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret('mlflow', { excludeCharacters: URI_UNSAFE, encryptionKey: this.artifactKey }),
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
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        parameters: { 'rds.force_ssl': '1' },
      }),
    });
    if (db.monitoringIntervalSeconds > 0) {
      acknowledgeAt(this.database, 'MonitoringRole/Resource',
        'The AWS managed policy for RDS Enhanced Monitoring is the documented one; it only writes the RDSOSMetrics log group',
        managedPolicyFinding('service-role/AmazonRDSEnhancedMonitoringRole'));
    }
    // The password lives only here; losing the secret with the stack would lock the snapshot out.
    // (database.secret is the attachment; the secret itself is the construct below it.)
    (constructAt(this.database, 'Secret') as secretsmanager.Secret).applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.database.connections.allowDefaultPortFrom(props.cluster.clusterSecurityGroup, 'MLflow pods (EKS Auto Mode nodes)');
    props.externalSecrets.grantRead(this.database.secret!);

    this.artifactBucket = createDataBucket(this, 'Artifacts', {
      encryptionKey: this.artifactKey,
      accessLogsBucket: props.accessLogsBucket ?? createAccessLogsBucket(this, 'AccessLogs', 365),
      accessLogsPrefix: 'mlflow-artifacts/',
    });

    // MLflow's own role: its password is generated here; the db-bootstrap init container creates the
    // role with it (as the master user, whose credentials reach only that container).
    const serverCredentials = new secretsmanager.Secret(this, 'DatabaseServerCredentials', {
      description: `PostgreSQL role of the MLflow server (owns database ${DATABASE_NAME} only) ${this.node.path}`,
      generateSecretString: {
        // Fixed, not derived from `name`: renaming must not create a second role beside the owner of the tables.
        secretStringTemplate: JSON.stringify({ username: 'mlflow_server' }),
        generateStringKey: 'password', excludeCharacters: URI_UNSAFE, passwordLength: 32,
      },
      encryptionKey: this.artifactKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    props.externalSecrets.grantRead(serverCredentials);
    acknowledgeAt(serverCredentials, 'Resource',
      'db-bootstrap sets this password on the role at every pod start; rotate it with a rollout instead (README, MLflow)',
      awsSolutions('SMG4'));

    const auth = props.basicAuth ?? props.ingress !== undefined;
    const authSecrets = auth ? this.createAuthSecrets(props.externalSecrets) : undefined;
    this.adminSecret = authSecrets?.admin;

    const server = new cdk8s.App();
    this.server = new MlflowServer(server, 'Mlflow', {
      namespace,
      name,
      profile,
      backendStoreSecretName: dbSecret,
      backendStoreAdminSecretName: dbAdminSecret,
      backendStoreCaConfigMapName: props.databaseCaCertificates !== undefined ? dbCaConfigMap : undefined,
      artifactsDestination: `s3://${this.artifactBucket.bucketName}/${ARTIFACT_PREFIX}`,
      awsRegion: Stack.of(this).region,
      replicas: props.replicas,
      workers: props.workers,
      clientNamespaces: props.clientNamespaces,
      ingress: props.ingress && this.albIngress(props.ingress, props.vpc),
      basicAuth: auth ? { secretName: authSecret, defaultPermission: props.defaultPermission } : undefined,
    });
    if (authSecrets) {
      new ExternalSecretObject(this.server, 'AuthSecrets', {
        namespace,
        secretName: authSecret,
        remoteSecret: authSecrets.admin.secretArn,
        component: 'mlflow',
        keys: [
          { secretKey: 'admin-password', property: 'password' },
          { secretKey: 'flask-secret-key', property: 'password', remoteSecret: authSecrets.flask.secretArn },
        ],
      });
    }
    new ExternalSecretObject(this.server, 'DatabaseUri', {
      namespace,
      secretName: dbSecret,
      remoteSecret: serverCredentials.secretArn,
      component: 'mlflow',
      // The endpoint comes from the master secret, the credentials from the server's own.
      keys: ['host', 'port'].map(key => ({ secretKey: key, property: key, remoteSecret: this.database.secret!.secretArn })),
      // psycopg2 explicitly (the -full image also has psycopg 3, which a bare postgresql:// picks);
      // sslmode=require because the parameter group refuses plain connections (README: why not verify-full).
      template: {
        uri: `postgresql+psycopg2://{{ .username }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/${DATABASE_NAME}?${tls}`,
      },
    });
    if (props.databaseCaCertificates !== undefined) {
      new ApiObject(this.server, 'DatabaseCa', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: dbCaConfigMap, namespace, labels: standardLabels('mlflow', dbCaConfigMap) },
        data: { 'ca.pem': props.databaseCaCertificates },
      });
    }
    new ExternalSecretObject(this.server, 'DatabaseAdmin', {
      namespace,
      secretName: dbAdminSecret,
      remoteSecret: this.database.secret!.secretArn,
      component: 'mlflow',
      keys: ['username', 'password'].map(key => ({ secretKey: key, property: key })),
    });

    this.identity = prefixPodIdentity(this, 'Identity', {
      cluster: props.cluster,
      namespace,
      serviceAccount: this.server.serviceAccount.name,
      description: 'MLflow server: reads and writes artifacts under the mlflow/ prefix',
    }, { bucket: this.artifactBucket, encryptionKey: this.artifactKey, prefix: ARTIFACT_PREFIX, write: true });

    this.manifest = props.cluster.addCdk8sChart(`${id}Chart`, this.server);
    // The pods need their credentials, their database and the ExternalSecret CRD before they start.
    this.manifest.node.addDependency(this.identity.association, this.database, props.externalSecrets.store);
    this.trackingUri = this.server.trackingUri;

    this.acknowledgeFindings(profile);
  }

  /**
   * The ingress with the AWS facts filled in: the ALB goes into the public subnets (internal or
   * not), which hold no pods, and the NetworkPolicy admits exactly those subnets. A range the user
   * adds may not cover the subnets pods get addresses from (EKS Auto Mode gives pods VPC
   * addresses), or it would admit every pod of the cluster.
   */
  private albIngress(ingress: MlflowIngressOptions, vpc: ec2.IVpc): MlflowIngressOptions {
    const podCidrs = vpc.selectSubnets(POD_SUBNETS).subnets.map(s => s.ipv4CidrBlock);
    for (const cidr of ingress.allowFromCidrs ?? []) {
      const covered = podCidrs.filter(pod => !Token.isUnresolved(pod) && !Token.isUnresolved(cidr) && cidrsOverlap(cidr, pod));
      if (covered.length) {
        throw new InvalidPropError(this, 'ingress.allowFromCidrs', cidr,
          `allowed: ranges without pod addresses; it covers the pod subnet(s) ${covered.join(', ')}, so every pod could reach MLflow`);
      }
    }
    if (ingress.className !== undefined || ingress.subnetIds !== undefined) return ingress;
    const albSubnets = vpc.publicSubnets;
    if (albSubnets.length === 0) {
      throw new InvalidPropError(this, 'ingress.subnetIds', undefined,
        'allowed: the subnets for the load balancer (the VPC has no public subnets to default to), with allowFromCidrs for their ranges');
    }
    return {
      ...ingress,
      subnetIds: albSubnets.map(s => s.subnetId),
      allowFromCidrs: [...(ingress.allowFromCidrs ?? []), ...albSubnets.map(s => s.ipv4CidrBlock)],
    };
  }

  /** The admin password and the Flask session key, generated, retained and readable by ESO only. */
  private createAuthSecrets(externalSecrets: ExternalSecrets) {
    const generate = (id: string, description: string, length: number) => {
      const secret = new secretsmanager.Secret(this, id, {
        description,
        generateSecretString: {
          secretStringTemplate: '{}', generateStringKey: 'password', passwordLength: length, excludePunctuation: true,
        },
        encryptionKey: this.artifactKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      externalSecrets.grantRead(secret);
      acknowledgeAt(secret, 'Resource',
        'MLflow reads it only at start-up (admin bootstrap, session signing); change the admin password through MLflow\'s API instead',
        awsSolutions('SMG4'));
      return secret;
    };
    const admin = generate('AdminPassword', 'MLflow basic-auth admin password (user admin)', 32);
    const flask = generate('SessionKey', 'MLflow basic-auth Flask secret key (signs sessions; shared by replicas)', 64);
    new CfnOutput(this, 'AdminPasswordSecret', {
      description: 'Secrets Manager secret with the MLflow admin password (key "password")',
      value: admin.secretName,
    });
    return { admin, flask };
  }

  private acknowledgeFindings(profile: StackProfile): void {
    acknowledgeAt(this.identity.role, 'DefaultPolicy/Resource',
      'MLflow writes one object per artifact under its prefix; the wildcard is that prefix of its own bucket and nothing wider',
      prefixWildcardFinding(this.artifactBucket, ARTIFACT_PREFIX));
    acknowledgeAt(this.database, 'Secret/Resource',
      'Rotating the master password would change it under running MLflow pods, which read the URI at start; rotate with a rollout instead (README, MLflow)',
      awsSolutions('SMG4'));
    acknowledgeAt(this.database, 'Resource',
      'Moving PostgreSQL off 5432 hides nothing: the security group admits only the cluster, and TLS is required',
      awsSolutions('RDS11'));
    if (profile === StackProfile.DEVELOPMENT) {
      acknowledgeAt(this.database, 'Resource',
        'DEVELOPMENT profile: a single-AZ instance is the cheap default; PRODUCTION runs Multi-AZ',
        awsSolutions('RDS3'));
      acknowledgeAt(this.database, 'Resource',
        'DEVELOPMENT profile: deletion protection is off so test stacks can be torn down; the instance is still snapshotted on delete',
        awsSolutions('RDS10'));
    }
  }
}

/** RDS identifiers: a letter, then letters, digits and single hyphens, at most 63, no trailing hyphen. */
const INSTANCE_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;

function assertInstanceIdentifier(scope: Construct, identifier: string, given: boolean): void {
  if (isUnresolved(identifier) || INSTANCE_IDENTIFIER.test(identifier)) return;
  throw new InvalidPropError(scope, 'databaseInstanceIdentifier', identifier, given
    ? 'allowed: 1-63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen'
    : 'the default derived from the stack name is not a valid RDS identifier; set databaseInstanceIdentifier');
}

function assertCaBundle(scope: Construct, pem: string): void {
  if (isUnresolved(pem)) return;
  const certificates = (pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g) ?? []).length;
  const size = Buffer.byteLength(pem);
  if (certificates === 0 || size > 64 * 1024) {
    throw new InvalidPropError(scope, 'databaseCaCertificates', `${certificates} PEM certificate(s), ${size} bytes`,
      'allowed: one or more PEM certificates, at most 64 KiB (the regional RDS bundle, not the global one)');
  }
}
