import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import {
  cidrsOverlap, KubernetesManifests, LoadBalancerScheme, MLFLOW_CLIENT_LABEL, MLFLOW_IMAGE, MlflowPermission, MlflowServer,
  MlflowServerProps, MlopsStack, StackProfile,
} from '../lib';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { synthReference } from './support/synth';

const REQUIRED = { backendStoreSecretName: 'mlflow-db', artifactsDestination: 's3://artifacts-bucket/mlflow' };

function chart(props: Partial<MlflowServerProps> = {}) {
  return new MlflowServer(new cdk8s.App(), 'Mlflow', { ...REQUIRED, ...props });
}
const objects = (c: MlflowServer) => c.toJson();
const ofKind = (c: MlflowServer, kind: string) => objects(c).filter((o: any) => o.kind === kind);
const podOf = (c: MlflowServer) => ofKind(c, 'Deployment')[0].spec.template.spec;
const server = (c: MlflowServer) => podOf(c).containers[0];
const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('MlflowServer with only the required props', () => {
  const c = chart();

  test('runs the pinned -full image as mlflow server with proxied artifacts on 0.0.0.0', () => {
    expect(server(c).image).toBe(`ghcr.io/mlflow/mlflow:${MLFLOW_IMAGE.tag}`);
    expect(MLFLOW_IMAGE.tag).toBe(`v${MLFLOW_IMAGE.release}-full`);
    expect(server(c).command).toEqual(['mlflow', 'server']);
    expect(server(c).args).toEqual(['--host', '0.0.0.0', '--port', '5000', '--workers', '2', '--serve-artifacts',
      '--artifacts-destination', 's3://artifacts-bucket/mlflow']);
    expect(server(c).args).not.toContain('--default-artifact-root');
  });

  test('reads the backend store URI from the Secret, never from a literal', () => {
    expect(envOf(server(c)).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-db', key: 'uri' } });
    expect(envOf(podOf(c).initContainers[0]).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-db', key: 'uri' } });
  });

  test('accepts exactly the in-cluster service names, with and without port', () => {
    expect(envOf(server(c)).MLFLOW_SERVER_ALLOWED_HOSTS.split(',')).toEqual([
      'mlflow', 'mlflow:5000', 'mlflow.mlflow', 'mlflow.mlflow:5000', 'mlflow.mlflow.svc', 'mlflow.mlflow.svc:5000',
      'mlflow.mlflow.svc.cluster.local', 'mlflow.mlflow.svc.cluster.local:5000',
    ]);
    expect(c.trackingUri).toBe('http://mlflow.mlflow.svc.cluster.local:5000');
  });

  test('migrates the database in an init container before the server starts', () => {
    const init = podOf(c).initContainers;
    expect(init.map((i: any) => i.name)).toEqual(['db-upgrade']);
    expect(init[0].image).toBe(server(c).image);
    expect(init[0].command.join(' ')).toMatch(/pg_advisory_lock[\s\S]*commands\.main\(args=\["upgrade", uri\]/);
  });

  test('probes /health, with a start-up allowance before liveness counts', () => {
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(server(c)[probe].httpGet).toEqual({ path: '/health', port: 'http' });
    }
    expect(server(c).startupProbe.periodSeconds * server(c).startupProbe.failureThreshold).toBeGreaterThanOrEqual(120);
  });

  test('meets Pod Security "restricted", with a writable scratch volume on a read-only root', () => {
    expect(restrictedViolations(podOf(c))).toEqual([]);
    expect(server(c).securityContext.readOnlyRootFilesystem).toBe(true);
    expect(server(c).volumeMounts).toEqual([{ name: 'scratch', mountPath: '/tmp' }]);
    expect(envOf(server(c)).HOME).toBe('/tmp');
  });

  test('DEVELOPMENT: one replica, no PDB, no spread', () => {
    expect(ofKind(c, 'Deployment')[0].spec.replicas).toBe(1);
    expect(ofKind(c, 'PodDisruptionBudget')).toHaveLength(0);
    expect(podOf(c).topologySpreadConstraints).toBeUndefined();
    expect(server(c).resources).toEqual({ requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1Gi' } });
  });

  test('the NetworkPolicy admits only labelled clients of its own namespace, on the MLflow port', () => {
    const [policy] = ofKind(c, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    // The pod label alone would admit any pod anywhere (anyone can label their own pod).
    expect(policy.spec.ingress).toEqual([{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlflow' } },
        podSelector: { matchLabels: { [MLFLOW_CLIENT_LABEL]: 'true' } },
      }],
      ports: [{ port: 5000, protocol: 'TCP' }],
    }]);
  });

  test('clientNamespaces admits labelled pods of exactly those namespaces', () => {
    const [policy] = ofKind(chart({ clientNamespaces: ['training', 'pipelines', 'training'] }), 'NetworkPolicy');
    expect(policy.spec.ingress[0].from).toEqual(['pipelines', 'training'].map(ns => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      podSelector: { matchLabels: { [MLFLOW_CLIENT_LABEL]: 'true' } },
    })));
  });

  test('the Service and ServiceAccount match the Deployment', () => {
    const [service] = ofKind(c, 'Service');
    expect(service.spec.selector).toEqual(ofKind(c, 'Deployment')[0].spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 5000, targetPort: 'http', protocol: 'TCP' }]);
    expect(podOf(c).serviceAccountName).toBe(ofKind(c, 'ServiceAccount')[0].metadata.name);
  });
});

describe('MlflowServer in PRODUCTION with an ingress', () => {
  const c = chart({
    profile: StackProfile.PRODUCTION, namespace: 'ml', s3EndpointUrl: 'https://minio.storage:9000',
    ingress: { host: 'mlflow.example.com', controllerNamespace: 'ingress-nginx', className: 'nginx' },
  });

  test('runs two replicas with four workers, a PDB and zone spread', () => {
    expect(ofKind(c, 'Deployment')[0].spec.replicas).toBe(2);
    expect(server(c).args).toContain('4');
    expect(ofKind(c, 'PodDisruptionBudget')[0].spec.maxUnavailable).toBe(1);
    expect(podOf(c).topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' });
    expect(server(c).resources.requests).toEqual({ cpu: '1', memory: '3Gi' });
  });

  test('accepts the ingress host and lets the controller through', () => {
    const env = envOf(server(c));
    expect(env.MLFLOW_SERVER_ALLOWED_HOSTS.split(',')).toEqual(expect.arrayContaining(['mlflow.example.com', 'mlflow.ml.svc.cluster.local:5000']));
    expect(env.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS).toBe('https://mlflow.example.com');
    expect(env.MLFLOW_S3_ENDPOINT_URL).toBe('https://minio.storage:9000');
    expect(ofKind(c, 'NetworkPolicy')[0].spec.ingress[0].from[1]).toEqual(
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } });
    expect(ofKind(c, 'Ingress')[0].spec.rules[0].host).toBe('mlflow.example.com');
  });
});

describe('MlflowServer with basic auth', () => {
  const c = chart({ basicAuth: { secretName: 'mlflow-auth', defaultPermission: MlflowPermission.NO_PERMISSIONS } });
  const pod = podOf(c);

  test('writes the auth INI from the URI Secret before migrating, into memory', () => {
    expect(pod.initContainers.map((i: any) => i.name)).toEqual(['auth-config', 'db-upgrade']);
    const script = pod.initContainers[0].command[2];
    expect(script).toContain('"default_permission": "NO_PERMISSIONS"');
    expect(script).toContain('os.environ["MLFLOW_BACKEND_STORE_URI"]');
    expect(pod.volumes).toContainEqual({ name: 'auth-config', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    // It writes into that volume (the only writable place besides /tmp) where the others read it.
    expect(script).toContain('with open("/etc/mlflow-auth/basic_auth.ini", "w")');
    expect(pod.initContainers[0].volumeMounts).toEqual([{ name: 'auth-config', mountPath: '/etc/mlflow-auth' }]);
  });

  test('bootstraps the admin under the migration lock and starts the basic-auth app', () => {
    expect(envOf(pod.initContainers[1]).MLFLOW_AUTH_CONFIG_PATH).toBe('/etc/mlflow-auth/basic_auth.ini');
    expect(server(c).args.slice(-2)).toEqual(['--app-name', 'basic-auth']);
    const env = envOf(server(c));
    expect(env.MLFLOW_AUTH_ADMIN_USERNAME).toBe('admin');
    expect(env.MLFLOW_AUTH_ADMIN_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-auth', key: 'admin-password' } });
    expect(env.MLFLOW_FLASK_SERVER_SECRET_KEY).toEqual({ secretKeyRef: { name: 'mlflow-auth', key: 'flask-secret-key' } });
    expect(server(c).volumeMounts).toContainEqual({ name: 'auth-config', mountPath: '/etc/mlflow-auth', readOnly: true });
  });

  test('still meets Pod Security "restricted"', () => {
    expect(restrictedViolations(pod)).toEqual([]);
  });
});

describe('MlflowServer rejects bad input at synth', () => {
  test.each([
    ['an artifact destination that is not S3', { artifactsDestination: 'gs://bucket/mlflow' }, /Mlflow: invalid prop 'artifactsDestination' = "gs:\/\/bucket\/mlflow"; allowed: an S3 URI/],
    ['a bare s3:// destination', { artifactsDestination: 's3://' }, /'artifactsDestination' = "s3:\/\/"/],
    ['0 replicas', { replicas: 0 }, /Mlflow: invalid prop 'replicas' = 0; allowed: a whole number greater than 0/],
    ['0 workers', { workers: 0 }, /Mlflow: invalid prop 'workers' = 0/],
    ['PRODUCTION with 1 replica', { profile: StackProfile.PRODUCTION, replicas: 1 }, /'replicas' = 1; allowed: at least 2 in PRODUCTION/],
    ['an invalid namespace', { namespace: 'ML_Ops' }, /'namespace' = "ML_Ops"; allowed: an RFC 1123 DNS label/],
    ['an invalid Secret name', { backendStoreSecretName: 'Mlflow DB' }, /'backendStoreSecretName' = "Mlflow DB"/],
    ['an invalid ingress host', { ingress: { host: 'MLflow_UI' } }, /'ingress.host' = "MLflow_UI"; allowed: a lowercase fully qualified DNS name/],
    ['a load balancer scheme with a class of another controller',
      { ingress: { host: 'mlflow.example.com', className: 'nginx', scheme: LoadBalancerScheme.INTERNAL } },
      /'ingress.scheme' = "internal"; allowed: unset when ingress.className names an existing class/],
    ['an allow-list entry that is not a CIDR', { ingress: { host: 'mlflow.example.com', allowFromCidrs: ['10.0.0.0/33'] } },
      /'ingress.allowFromCidrs' = "10.0.0.0\/33"; allowed: an IPv4 CIDR block/],
    ['a certificate that is not an ACM ARN', { ingress: { host: 'mlflow.example.com', certificateArn: 'arn:aws:iam::1:server-certificate/x' } },
      /'ingress.certificateArn' = "arn:aws:iam::1:server-certificate\/x"; allowed: an ACM certificate ARN/],
    ['an S3 endpoint that is not a URL', { s3EndpointUrl: 'minio:9000' }, /'s3EndpointUrl' = "minio:9000"; allowed: an http\(s\):\/\/ URL/],
    ['an invalid cluster domain', { clusterDomain: 'Cluster Local' }, /'clusterDomain' = "Cluster Local"/],
    ['an invalid auth Secret name', { basicAuth: { secretName: 'Auth_Secret' } }, /'basicAuth.secretName' = "Auth_Secret"/],
  ])('%s', (_name, props, message) => {
    expect(() => chart(props as Partial<MlflowServerProps>)).toThrow(message);
  });
});

describe.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('Mlflow on AWS (%s)', profile => {
  const stack = new MlopsStack(new App(), 'Stack', { profile });
  const template = Template.fromStack(stack);
  const production = profile === StackProfile.PRODUCTION;

  test('PostgreSQL 17 sized and protected by profile, encrypted, TLS-only', () => {
    template.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({
        Engine: 'postgres',
        EngineVersion: Match.stringLikeRegexp('^17\\.'),
        DBInstanceClass: production ? 'db.m7g.large' : 'db.t4g.micro',
        MultiAZ: production,
        DeletionProtection: production,
        BackupRetentionPeriod: production ? 14 : 1,
        EnablePerformanceInsights: production,
        StorageEncrypted: true,
        PubliclyAccessible: false,
        // Fixed: a change that needs a new instance fails ("already exists") instead of swapping in an empty one.
        DBInstanceIdentifier: 'stack-mlflow',
      }),
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    // OS metrics in PRODUCTION only; the master and server secrets are encrypted with MLflow's own key.
    const db = Object.values(template.findResources('AWS::RDS::DBInstance'))[0] as any;
    expect(db.Properties.MonitoringInterval).toBe(production ? 60 : undefined);
    const keyId = stack.getLogicalId(stack.mlflow.artifactKey.node.defaultChild as any);
    const secrets = Object.entries(template.findResources('AWS::SecretsManager::Secret'))
      .filter(([id]) => id.includes('Mlflow')).map(([, r]) => r) as any[];
    expect(secrets.map(r => r.Properties.KmsKeyId)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }, { 'Fn::GetAtt': [keyId, 'Arn'] }]);
  });

  test('the artifact bucket logs access under its own prefix of the shared log bucket', () => {
    const bucketId = stack.getLogicalId(stack.mlflow.artifactBucket.node.defaultChild as any);
    expect(template.toJSON().Resources[bucketId].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: stack.getLogicalId(stack.dvc.accessLogsBucket.node.defaultChild as any) },
      LogFilePrefix: 'mlflow-artifacts/',
    });
  });

  test('the database admits only the cluster security group, on its port', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map((r: any) => r.Properties).filter((p: any) => JSON.stringify(p.GroupId).includes('MlflowDatabase'));
    expect(ingress).toHaveLength(1);
    expect(ingress[0].IpProtocol).toBe('tcp');
    expect(ingress[0].FromPort).toEqual(ingress[0].ToPort);
    expect(JSON.stringify(ingress[0].FromPort)).toMatch(/MlflowDatabase[0-9A-F]+","Endpoint.Port"/);
    expect(JSON.stringify(ingress[0].SourceSecurityGroupId)).toMatch(/ClusterSecurityGroupId/);
  });

  test('the MLflow pods assume a role limited to the artifact prefix', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'mlflow', ServiceAccount: 'mlflow' });
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))
      .find((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('MlflowIdentityRole'))) as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    const objects = statements.find((s: any) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(objects.Resource)).toMatch(/MlflowArtifacts[0-9A-F]+","Arn"\]\},"\/mlflow\/\*"/);
    expect(statements.flatMap((s: any) => [s.Action].flat()).sort()).toEqual(
      ['kms:Decrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  test('the server connects as its own role; the master credentials reach only the db-bootstrap init container', () => {
    const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
    const externalSecret = objects.find(o => o.kind === 'ExternalSecret' && o.metadata.name === 'mlflow-db');
    expect(externalSecret.metadata).toMatchObject({ name: 'mlflow-db', namespace: 'mlflow' });
    // Credentials from the server's own secret, only the endpoint from the master secret.
    expect(externalSecret.spec.dataFrom[0].extract.key).toMatch(/^\$\{Ref:MlflowDatabaseServerCredentials/);
    expect(externalSecret.spec.data.map((d: any) => [d.secretKey, d.remoteRef.property, d.remoteRef.key.slice(0, 36)])).toEqual([
      ['host', 'host', '${Ref:MlflowDatabaseSecretAttachment'], ['port', 'port', '${Ref:MlflowDatabaseSecretAttachment']]);
    const [serverSecret] = Object.values(template.findResources('AWS::SecretsManager::Secret', {
      Properties: { Description: Match.stringLikeRegexp('^PostgreSQL role of the MLflow server') },
    })) as any[];
    const server = JSON.parse(serverSecret.Properties.GenerateSecretString.SecretStringTemplate);
    expect(server.username).toBe('mlflow_server');
    const [db] = Object.values(template.findResources('AWS::RDS::DBInstance')) as any[];
    expect(db.Properties.MasterUsername).not.toBe(server.username);
    const admin = objects.find(o => o.kind === 'ExternalSecret' && o.metadata.name === 'mlflow-db-admin');
    expect(admin.spec.data.map((d: any) => d.remoteRef.property)).toEqual(['username', 'password']);
    // Which containers see which secret: the admin one in db-bootstrap only, which runs to completion.
    const pod = objects.find(o => o.kind === 'Deployment').spec.template.spec;
    const readers = (secret: string) => [...pod.initContainers, ...pod.containers]
      .filter((c: any) => (c.env ?? []).some((e: any) => e.valueFrom?.secretKeyRef?.name === secret)).map((c: any) => c.name);
    expect(readers('mlflow-db-admin')).toEqual(['db-bootstrap']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['mlflow']);
    expect(readers('mlflow-db')).toEqual(expect.arrayContaining(['db-bootstrap', 'db-upgrade', 'mlflow']));
    expect(pod.initContainers.map((c: any) => c.name)[0]).toBe('db-bootstrap');
    expect(externalSecret.spec.target.template.data.uri).toBe(
      'postgresql+psycopg2://{{ .username }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/mlflow?sslmode=require');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ExternalSecretsStoreRolemlflow') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: Match.stringLikeRegexp('^MlflowDatabaseSecretAttachment') },
      })]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ExternalSecretsStoreRolemlflow') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: Match.stringLikeRegexp('^MlflowDatabaseServerCredentials') },
      })]) },
    });
  });

  test('the chart is applied after its identity, database and secret store', () => {
    const [manifest] = Object.entries(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .filter(([id]) => id.includes('MlflowChart')).map(([, r]) => r as any);
    for (const prefix of ['MlflowIdentityAssociation', 'MlflowDatabase', 'PlatformClusterExternalSecretsStore', 'PlatformClusterWorkloadNamespace']) {
      expect(manifest.DependsOn.some((d: string) => d.startsWith(prefix))).toBe(true);
    }
  });

  test('every pod of the stack meets Pod Security "restricted"', () => {
    const pods = KubernetesManifests.fromStack(stack).flatMap(o => podSpecsOf(o.object));
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.flatMap(restrictedViolations)).toEqual([]);
  });
});

describe('Mlflow on AWS with the database CA bundle', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n';
  const { stack } = synthReference(StackProfile.DEVELOPMENT, { mlflow: { databaseCaCertificates: pem } });
  const objects = KubernetesManifests.fromStack(stack).map(o => o.object);

  test('verifies the server in every container that connects, with the bundle from a ConfigMap', () => {
    const uri = objects.find(o => o.kind === 'ExternalSecret' && o.metadata.name === 'mlflow-db').spec.target.template.data.uri;
    expect(uri).toMatch(/\?sslmode=verify-full&sslrootcert=\/etc\/mlflow-db-ca\/ca\.pem$/);
    expect(objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === 'mlflow-db-ca').data).toEqual({ 'ca.pem': pem });
    const pod = objects.find(o => o.kind === 'Deployment').spec.template.spec;
    const connecting = [...pod.initContainers, ...pod.containers].filter((c: any) => c.env.some((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI'));
    expect(connecting.map((c: any) => c.name)).toEqual(['db-bootstrap', 'db-upgrade', 'mlflow']);
    for (const c of connecting) expect(c.volumeMounts).toContainEqual({ name: 'db-ca', mountPath: '/etc/mlflow-db-ca', readOnly: true });
  });

  test.each([
    ['no certificate', 'not a certificate'],
    ['the global bundle\'s size', `${pem}${'x'.repeat(70 * 1024)}`],
  ])('refuses %s', (_, bundle) => {
    expect(() => synthReference(StackProfile.DEVELOPMENT, { mlflow: { databaseCaCertificates: bundle } }))
      .toThrow(/Mlflow: invalid prop 'databaseCaCertificates' = "\d+ PEM certificate\(s\), \d+ bytes"; allowed: one or more PEM certificates, at most 64 KiB/);
  });
});

describe('Mlflow on AWS behind an ingress', () => {
  const ingress = { host: 'mlflow.example.com' };
  const { stack, template } = synthReference(StackProfile.DEVELOPMENT, { mlflow: { ingress } });
  const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
  const subnets = (kind: string) => Object.entries(template.findResources('AWS::EC2::Subnet')).filter(([id]) => id.includes(kind)) as [string, any][];

  test('an internal ALB of its own class, HTTPS only, usable only from MLflow\'s namespace', () => {
    const params = objects.find(o => o.kind === 'IngressClassParams');
    const ingressClass = objects.find(o => o.kind === 'IngressClass');
    const ing = objects.find(o => o.kind === 'Ingress');
    expect(ingressClass.spec).toEqual({
      controller: 'eks.amazonaws.com/alb',
      parameters: { apiGroup: 'eks.amazonaws.com', kind: 'IngressClassParams', name: params.metadata.name },
    });
    expect(ing.spec.ingressClassName).toBe(ingressClass.metadata.name);
    expect(params.spec).toMatchObject({ scheme: 'internal', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlflow' } } });
    expect(ing.spec.tls).toEqual([{ hosts: ['mlflow.example.com'] }]);
    expect(ing.metadata.annotations).toMatchObject({ 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS": 443}]', 'alb.ingress.kubernetes.io/target-type': 'ip' });
    // The ALB sits in the public subnets, which hold no pods.
    expect(params.spec.subnets.ids).toEqual(subnets('public').map(([id]) => `\${Ref:${id}}`));
  });

  test('the NetworkPolicy admits the ALB subnets and no pod subnet', () => {
    const policy = objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'mlflow');
    const cidrs = policy.spec.ingress[0].from.filter((p: any) => p.ipBlock).map((p: any) => p.ipBlock.cidr);
    expect(cidrs).toEqual(subnets('public').map(([, s]) => s.Properties.CidrBlock));
    for (const [, pod] of subnets('private')) for (const cidr of cidrs) expect(cidrsOverlap(cidr, pod.Properties.CidrBlock)).toBe(false);
  });

  test('refuses an allow-list that covers pod addresses (the VPC range, as the old default suggested)', () => {
    expect(() => synthReference(StackProfile.DEVELOPMENT, { mlflow: { ingress: { ...ingress, allowFromCidrs: ['10.0.0.0/16'] } } }))
      .toThrow(/Mlflow: invalid prop 'ingress.allowFromCidrs' = "10.0.0.0\/16"; allowed: ranges without pod addresses; it covers the pod subnet\(s\) 10\.0\./);
    expect(() => synthReference(StackProfile.DEVELOPMENT, { mlflow: { ingress: { ...ingress, allowFromCidrs: ['192.168.10.0/24'] } } })).not.toThrow();
  });

  test('internet-facing only with a certificate', () => {
    expect(() => synthReference(StackProfile.DEVELOPMENT, { mlflow: { ingress: { ...ingress, scheme: LoadBalancerScheme.INTERNET_FACING } } }))
      .toThrow(/invalid prop 'ingress.certificateArn' = undefined; allowed: an ACM certificate ARN/);
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
    const facing = synthReference(StackProfile.DEVELOPMENT, { mlflow: { ingress: { ...ingress, scheme: LoadBalancerScheme.INTERNET_FACING, certificateArn: arn } } });
    const params = KubernetesManifests.fromStack(facing.stack).map(o => o.object).find(o => o.kind === 'IngressClassParams');
    expect(params.spec).toMatchObject({ scheme: 'internet-facing', certificateARNs: [arn] });
  });

  test('turns basic auth on, with generated, retained secrets only the MLflow secret store can read', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }) } });
    const ids = Object.keys(secrets).filter(id => id.startsWith('MlflowAdminPassword') || id.startsWith('MlflowSessionKey'));
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(secrets[id].DeletionPolicy).toBe('Retain');
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => ids.some(id => JSON.stringify(p.Properties.PolicyDocument).includes(`"${id}"`)))
      .map((p: any) => p.Properties.Roles.map((r: any) => r.Ref)).flat();
    expect(readers).toEqual([expect.stringMatching(/^ExternalSecretsStoreRolemlflow/)]);
    const readable = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy'))
      .find((p: any) => p.Properties.Roles[0].Ref === readers[0])!.Properties.PolicyDocument);
    for (const id of ids) expect(readable).toContain(id);
    expect(stack.mlflow.adminSecret).toBeDefined();
  });

  test('the pods get the login from External Secrets', () => {
    const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
    const auth = objects.find(o => o.kind === 'ExternalSecret' && o.metadata.name === 'mlflow-auth');
    expect(auth.spec.data.map((d: any) => d.secretKey)).toEqual(['admin-password', 'flask-secret-key']);
    const deployment = objects.find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].args).toContain('basic-auth');
  });

  test('can be turned off explicitly', () => {
    const plain = new MlopsStack(new App(), 'NoAuth', { mlflow: { ingress, basicAuth: false } });
    const deployment = KubernetesManifests.fromStack(plain).map(o => o.object).find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].args).not.toContain('basic-auth');
    expect(plain.mlflow.adminSecret).toBeUndefined();
  });
});

test('the restricted check fails a privileged, root pod', () => {
  expect(restrictedViolations({
    containers: [{ name: 'bad', securityContext: { privileged: true, runAsUser: 0 } }],
    volumes: [{ name: 'host', hostPath: { path: '/' } }],
  })).toEqual(expect.arrayContaining([
    'volume host is of type hostPath', 'container bad: privileged', 'container bad: allowPrivilegeEscalation is not false',
    'container bad: capabilities do not drop ALL', 'container bad: runAsNonRoot is not true', 'container bad: runAsUser is 0',
  ]));
});
