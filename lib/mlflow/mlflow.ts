import { CfnOutput, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { InvalidPropError, reportPropsAt } from '../../constructs/core/errors';
import { cidrsOverlap } from '../../constructs/core/network';
import { POD_SUBNETS } from '../platform/node-pool';
import { ExternalSecretObject } from '../../constructs/core/external-secret';
import { BACKEND_STORE_CA_FILE, MlflowIngressOptions, MlflowPermission, MlflowServer } from '../../constructs/mlflow/mlflow-server';
import {
  createDataBucket, createDataKey, grantPrefixAccess, ModelSource, prefixPodIdentity, useBucketPolicyForAccessLogs,
} from '../core/buckets';
import { guardStackAgainstClashes } from '../core/clashes';
import { generatedPassword } from '../core/generated-secret';
import { stableIdentifier } from '../core/identifiers';
import { addDatabaseSecrets, assertCaBundle, ComponentDatabase, createComponentDatabase } from '../core/component-database';
import { ComponentPlatform, ISecretDelivery, resolvePlatform } from '../core/platform';
import { acknowledgeAt, awsSolutions } from '../core/nag';
import { PodIdentityRole } from '../core/pod-identity';

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
   * before upgrading (docs/upgrading.md), or the upgrade replaces the instance.
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
   * offline, and the region of an environment-agnostic stack is not known at synth (docs/components/mlflow.md)
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

/** Properties of `MlflowOnAws`. */
/**
 * An MLflow tracking server's model store on S3, as a model server needs it: where the artifacts
 * are, and the grant to read the models logged there. `MlflowOnAws` is one.
 */
export interface IMlflowModelStore {
  /** The server's `--artifacts-destination`, an `s3://` URI. */
  readonly artifactsDestination: string;
  /** The artifact store as a model source: served models may be read from under it. */
  readonly modelSource: ModelSource;
  /** The tracking server's URL, recorded on each InferenceService. */
  readonly trackingUri: string;
  /** Lets `grantee` (a role of this app) read the logged models (`<experiment>/models/*`) and nothing else. */
  grantReadModels(grantee: iam.IGrantable): iam.Grant;
}

export interface MlflowOnAwsProps extends MlflowOptions {
  /** The platform MLflow runs on. */
  readonly platform: ComponentPlatform;
}

const DATABASE_NAME = 'mlflow';
const ARTIFACT_PREFIX = 'mlflow';

/**
 * MLflow on EKS: a PostgreSQL backend (RDS, sized by profile, TLS-only, encrypted, private,
 * reachable only from the cluster), a versioned, encrypted, retained artifact bucket that only
 * the MLflow pods can use (Pod Identity, artifact prefix only), the database URI delivered by
 * External Secrets, and the `MlflowServer` chart.
 */
export class MlflowOnAws extends Construct implements IMlflowModelStore {
  /** The PostgreSQL backend store. */
  public readonly database: rds.DatabaseInstance;
  private readonly databaseParts: ComponentDatabase;
  /** The artifact bucket. */
  public readonly artifactBucket: s3.Bucket;
  /** The key encrypting the artifact bucket. */
  public readonly artifactKey: kms.Key;
  /** The role of the MLflow pods. */
  public readonly identity: PodIdentityRole;
  /** The Kubernetes side. */
  public readonly chart: MlflowServer;
  /** The manifest applying `chart` to the cluster. */
  public readonly manifest: eks.KubernetesManifest;
  /** Tracking URI for in-cluster clients. */
  public readonly trackingUri: string;
  /** Prefix of the artifact store in `artifactBucket` (the server's `--artifacts-destination`). */
  public readonly artifactPrefix = ARTIFACT_PREFIX;
  /** The artifact store as a model source (bucket, key, prefix), for KServe. */
  public readonly modelSource: ModelSource;
  /** The server's `--artifacts-destination`. */
  public readonly artifactsDestination: string;
  /** The admin password (key `password`), when basic auth is on. */
  public readonly adminSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MlflowOnAwsProps) {
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
    const { cluster, vpc, secrets } = props.platform;
    const { profile, accessLogsBucket } = resolvePlatform(this, props.platform);

    // One key for MLflow's data: its artifacts and the credentials of its database and login.
    this.artifactKey = createDataKey(this, 'ArtifactKey', `Encryption of MLflow data (artifacts, credentials) ${this.node.path}`);

    this.databaseParts = createComponentDatabase(this, {
      component: 'MLflow',
      databaseName: DATABASE_NAME,
      masterUsername: 'mlflow',
      serverRole: 'mlflow_server',
      cluster,
      vpc,
      secrets,
      namespace,
      profile,
      encryptionKey: this.artifactKey,
      instanceIdentifier: props.databaseInstanceIdentifier ?? stableIdentifier(this, id, 63),
      instanceIdentifierGiven: props.databaseInstanceIdentifier !== undefined,
      instanceType: props.databaseInstanceType,
    });
    this.database = this.databaseParts.instance;

    this.artifactBucket = createDataBucket(this, 'Artifacts', {
      encryptionKey: this.artifactKey,
      accessLogsBucket: accessLogsBucket,
      accessLogsPrefix: 'mlflow-artifacts/',
    });

    this.artifactsDestination = `s3://${this.artifactBucket.bucketName}/${ARTIFACT_PREFIX}`;
    this.modelSource = { bucket: this.artifactBucket, encryptionKey: this.artifactKey, prefix: ARTIFACT_PREFIX };

    const auth = props.basicAuth ?? props.ingress !== undefined;
    const authSecrets = auth ? this.createAuthSecrets(secrets, namespace) : undefined;
    this.adminSecret = authSecrets?.admin;

    const server = new cdk8s.App();
    this.chart = reportPropsAt(this, () => new MlflowServer(server, 'Mlflow', {
      namespace,
      name,
      profile,
      backendStoreSecretName: dbSecret,
      backendStoreAdminSecretName: dbAdminSecret,
      backendStoreCaConfigMapName: props.databaseCaCertificates !== undefined ? dbCaConfigMap : undefined,
      artifactsDestination: this.artifactsDestination,
      awsRegion: Stack.of(this).region,
      replicas: props.replicas,
      workers: props.workers,
      clientNamespaces: props.clientNamespaces,
      ingress: props.ingress && this.albIngress(props.ingress, vpc),
      basicAuth: auth ? { secretName: authSecret, defaultPermission: props.defaultPermission } : undefined,
    }));
    if (authSecrets) {
      new ExternalSecretObject(this.chart, 'AuthSecrets', {
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
    addDatabaseSecrets(this.chart, this.databaseParts, {
      namespace,
      component: 'mlflow',
      secretName: dbSecret,
      adminSecretName: dbAdminSecret,
      // psycopg2 explicitly (the -full image also has psycopg 3, which a bare postgresql:// picks);
      // sslmode=require because the parameter group refuses plain connections (docs/components/mlflow.md: why not verify-full).
      template: {
        uri: `postgresql+psycopg2://{{ .username }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/${DATABASE_NAME}?${tls}`,
      },
      caConfigMapName: dbCaConfigMap,
      caCertificates: props.databaseCaCertificates,
    });

    this.identity = prefixPodIdentity(this, 'Identity', {
      cluster,
      namespace,
      serviceAccount: this.chart.serviceAccount.name,
      description: 'MLflow server: reads and writes artifacts under the mlflow/ prefix',
    }, 'MLflow writes one object per artifact under its prefix; the wildcard is that prefix of its own bucket and nothing wider',
    { bucket: this.artifactBucket, encryptionKey: this.artifactKey, prefix: ARTIFACT_PREFIX, write: true });

    this.manifest = cluster.addCdk8sChart(`${id}Chart`, this.chart);
    // The pods need their credentials, their database and the ExternalSecret CRD before they start.
    this.manifest.node.addDependency(this.identity.association, this.database, secrets.storeFor(namespace));
    this.trackingUri = this.chart.trackingUri;

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
  /**
   * Lets `grantee` (a role of this app) read the models logged to this server
   * (`mlflow/<experiment>/models/<model>/...`), not the runs' other artifacts.
   */
  public grantReadModels(grantee: iam.IGrantable): iam.Grant {
    return grantPrefixAccess(grantee, { bucket: this.artifactBucket, encryptionKey: this.artifactKey, prefix: `${ARTIFACT_PREFIX}/*/models`, write: false },
      'Reads the objects of MLflow\'s logged models; the wildcards are the experiment and the model directory, nothing wider');
  }

  private createAuthSecrets(secrets: ISecretDelivery, namespace: string) {
    const generate = (id: string, description: string, length: number) => {
      const secret = generatedPassword(this, id, { description, encryptionKey: this.artifactKey, length });
      secrets.grantRead(secret, namespace);
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
}
