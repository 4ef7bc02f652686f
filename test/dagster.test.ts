import { Match } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import { parse } from 'yaml';
import { DAGSTER_IMAGE, Dagster, DagsterProps, KubernetesManifests, StackProfile } from '../lib';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { synthReference } from './support/synth';

const REQUIRED: DagsterProps = {
  databaseSecretName: 'dagster-db',
  computeLogBucket: 'compute-logs',
  codeLocations: [{ name: 'etl', image: 'registry.example.com/etl:1', module: 'etl.definitions' }],
};
const dagster = (props: Partial<DagsterProps> = {}) => new Dagster(new cdk8s.App(), 'Dagster', { ...REQUIRED, ...props });
const ofKind = (c: cdk8s.Chart, kind: string) => c.toJson().filter((o: any) => o.kind === kind);
const named = (c: cdk8s.Chart, kind: string, name: string) => ofKind(c, kind).find((o: any) => o.metadata.name === name);
const container = (d: any) => d.spec.template.spec.containers[0];

describe('Dagster with one code location', () => {
  const c = dagster();
  const instance = parse(named(c, 'ConfigMap', 'dagster-instance').data['dagster.yaml']);

  test('every Dagster part runs the one pinned release', () => {
    for (const name of ['dagster-webserver', 'dagster-daemon']) {
      expect(container(named(c, 'Deployment', name)).image).toBe(`docker.io/dagster/dagster-celery-k8s:${DAGSTER_IMAGE.release}`);
    }
  });

  test('the webserver serves on 0.0.0.0 with the mounted workspace, probed on /server_info', () => {
    const web = container(named(c, 'Deployment', 'dagster-webserver'));
    expect([...web.command, ...web.args]).toEqual(['dagster-webserver', '--host', '0.0.0.0', '--port', '3000', '-w', '/dagster-workspace/workspace.yaml']);
    expect(web.readinessProbe.httpGet).toEqual({ path: '/server_info', port: 'http' });
  });

  test('exactly one daemon, replaced rather than rolled', () => {
    const daemon = named(c, 'Deployment', 'dagster-daemon');
    expect(daemon.spec.replicas).toBe(1);
    expect(daemon.spec.strategy).toEqual({ type: 'Recreate' });
    expect([...container(daemon).command, ...container(daemon).args]).toEqual(['dagster-daemon', 'run', '-w', '/dagster-workspace/workspace.yaml']);
    expect(container(daemon).livenessProbe.exec.command).toEqual(['dagster-daemon', 'liveness-check']);
  });

  test('each code location is a gRPC server listed in workspace.yaml by its Service', () => {
    const code = named(c, 'Deployment', 'dagster-etl');
    expect([...container(code).command, ...container(code).args]).toEqual(['dagster', 'api', 'grpc', '--host', '0.0.0.0', '--port', '3030',
      '--module-name', 'etl.definitions']);
    expect(container(code).env).toContainEqual({ name: 'DAGSTER_CURRENT_IMAGE', value: 'registry.example.com/etl:1' });
    // No container context: dagster-k8s would count it as user-defined config, which the launcher refuses.
    expect(container(code).env.map((e: any) => e.name)).not.toContain('DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT');
    expect(named(c, 'Service', 'dagster-etl').spec.ports[0].port).toBe(3030);
    expect(parse(named(c, 'ConfigMap', 'dagster-workspace').data['workspace.yaml'])).toEqual({
      load_from: [{ grpc_server: { host: 'dagster-etl', port: 3030, location_name: 'etl' } }],
    });
  });

  test('dagster.yaml: PostgreSQL from the environment, queued runs, the Kubernetes run launcher, compute logs on S3', () => {
    expect(instance.storage.postgres.postgres_db).toEqual({
      username: { env: 'DAGSTER_PG_USERNAME' }, password: { env: 'DAGSTER_PG_PASSWORD' }, hostname: { env: 'DAGSTER_PG_HOST' },
      db_name: { env: 'DAGSTER_PG_DB' }, port: { env: 'DAGSTER_PG_PORT' }, params: { sslmode: 'require' }, scheme: 'postgresql+psycopg2',
    });
    expect(instance.run_coordinator).toMatchObject({ class: 'QueuedRunCoordinator', config: { max_concurrent_runs: 1 } });
    expect(instance.run_launcher).toMatchObject({ module: 'dagster_k8s', class: 'K8sRunLauncher', config: {
      job_namespace: 'dagster', service_account_name: 'dagster-run', env_secrets: ['dagster-db'], instance_config_map: 'dagster-instance',
    } });
    expect(instance.compute_logs).toMatchObject({ class: 'S3ComputeLogManager', config: { bucket: 'compute-logs', prefix: 'dagster/compute-logs' } });
    expect(instance.telemetry).toEqual({ enabled: false });
  });

  test('run pods are as hardened as the others, by the launcher\'s own settings', () => {
    const config = instance.run_launcher.config;
    expect(config.security_context).toMatchObject({ run_as_non_root: true, allow_privilege_escalation: false, read_only_root_filesystem: true,
      capabilities: { drop: ['ALL'] }, seccomp_profile: { type: 'RuntimeDefault' } });
    expect(config.run_k8s_config.pod_spec_config).toMatchObject({ automount_service_account_token: false,
      security_context: { run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } } });
    expect(config.resources).toEqual({ requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '512Mi' } });
  });

  test('every pod meets Pod Security "restricted"; only the API clients (webserver, daemon) mount a token', () => {
    const pods = c.toJson().filter((o: any) => o.kind === 'Deployment');
    expect(pods).toHaveLength(3);
    expect(pods.flatMap(podSpecsOf).flatMap(restrictedViolations)).toEqual([]);
    expect(Object.fromEntries(pods.map((d: any) => [d.metadata.name, d.spec.template.spec.automountServiceAccountToken])))
      .toEqual({ 'dagster-webserver': true, 'dagster-daemon': true, 'dagster-etl': false });
  });

  test('the daemon may launch runs; the webserver may only terminate them and read their debug info', () => {
    const terminateAndDebug = [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['delete', 'list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'] },
    ];
    expect(named(c, 'Role', 'dagster-run-launcher').rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] },
      { apiGroups: ['batch'], resources: ['jobs/status'], verbs: ['get'] },
      ...terminateAndDebug,
    ]);
    expect(named(c, 'RoleBinding', 'dagster-run-launcher').subjects.map((s: any) => s.name)).toEqual(['dagster-daemon']);
    expect(named(c, 'Role', 'dagster-webserver-runs').rules).toEqual(terminateAndDebug);
    expect(named(c, 'RoleBinding', 'dagster-webserver-runs').subjects.map((s: any) => s.name)).toEqual(['dagster-webserver']);
  });

  test('code servers admit only the webservers, the daemon and run pods', () => {
    const from = named(c, 'NetworkPolicy', 'dagster-etl').spec.ingress[0].from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/instance']);
    expect(from).toEqual(['dagster-daemon', 'dagster-webserver', 'dagster-read-only', 'dagster-run']);
    const runLabels = parse(named(c, 'ConfigMap', 'dagster-instance').data['dagster.yaml']).run_launcher.config.labels;
    expect(runLabels['app.kubernetes.io/instance']).toBe('dagster-run');
  });

  test('one webserver and no disruption budget in DEVELOPMENT', () => {
    expect(named(c, 'Deployment', 'dagster-webserver').spec.replicas).toBe(1);
    expect(ofKind(c, 'PodDisruptionBudget')).toEqual([]);
  });
});

test('a code location\'s env and env Secrets reach the run pods through the launcher, which lets a run add only resources', () => {
  const c = dagster({ codeLocations: [
    { ...REQUIRED.codeLocations![0], env: { STAGE: 'dev' }, envSecretNames: ['warehouse'] },
    { ...REQUIRED.codeLocations![0], name: 'ml', env: { STAGE: 'dev', MODEL: 'churn' }, envSecretNames: ['warehouse', 'features'] },
  ] });
  const code = container(named(c, 'Deployment', 'dagster-etl'));
  expect(code.env).toContainEqual({ name: 'STAGE', value: 'dev' });
  expect(code.envFrom).toEqual([{ secretRef: { name: 'warehouse' } }]);
  const launcher = parse(named(c, 'ConfigMap', 'dagster-instance').data['dagster.yaml']).run_launcher.config;
  expect(launcher.env_vars).toEqual(expect.arrayContaining(['STAGE=dev', 'MODEL=churn']));
  expect(launcher.env_secrets).toEqual(['dagster-db', 'warehouse', 'features']);
  expect(launcher.only_allow_user_defined_k8s_config_fields).toEqual({ container_config: { resources: true } });
  expect(launcher.only_allow_user_defined_env_vars).toEqual([]);
});

test('two code locations may not give one variable two values: every run pod gets both environments', () => {
  expect(() => dagster({ codeLocations: [
    { ...REQUIRED.codeLocations![0], env: { STAGE: 'dev' } },
    { ...REQUIRED.codeLocations![0], name: 'ml', env: { STAGE: 'prod' } },
  ] })).toThrow(/invalid prop 'codeLocations\[1\]\.env' = "STAGE"; allowed: a value every location that sets this variable shares/);
});

describe('Dagster in PRODUCTION with a read-only webserver and a database admin', () => {
  const c = dagster({ profile: StackProfile.PRODUCTION, readOnlyWebserver: true, databaseAdminSecretName: 'dagster-db-admin' });

  test('two webservers of each kind, spread and budgeted; the read-only one cannot launch', () => {
    for (const name of ['dagster-webserver', 'dagster-read-only']) {
      expect(named(c, 'Deployment', name).spec.replicas).toBe(2);
      expect(named(c, 'PodDisruptionBudget', name)).toBeDefined();
    }
    expect(container(named(c, 'Deployment', 'dagster-read-only')).args).toContain('--read-only');
    // Its own account, which no RoleBinding names.
    expect(named(c, 'Deployment', 'dagster-read-only').spec.template.spec.serviceAccountName).toBe('dagster-read-only');
    expect(JSON.stringify(ofKind(c, 'RoleBinding'))).not.toContain('dagster-read-only');
    expect(container(named(c, 'Deployment', 'dagster-webserver')).args).not.toContain('--read-only');
  });

  test('only the daemon\'s db-bootstrap init container sees the admin Secret', () => {
    const readers = c.toJson().flatMap(podSpecsOf).flatMap((p: any) => [...(p.initContainers ?? []), ...p.containers])
      .filter((ct: any) => JSON.stringify(ct.env ?? []).includes('dagster-db-admin')).map((ct: any) => ct.name);
    expect(readers).toEqual(['db-bootstrap']);
  });
});

test('client namespaces reach the read-only webserver; only operator namespaces reach the one that launches', () => {
  const c = dagster({ clientNamespaces: ['analytics'], operatorNamespaces: ['ml-platform'] });
  const admitted = (name: string) => named(c, 'NetworkPolicy', name).spec.ingress[0].from
    .map((p: any) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
  expect(admitted('dagster-read-only')).toEqual(['analytics', 'dagster']);
  expect(admitted('dagster-webserver')).toEqual(['dagster', 'ml-platform']);
  expect(() => dagster({ clientNamespaces: ['analytics'], readOnlyWebserver: false }))
    .toThrow(/invalid prop 'readOnlyWebserver' = false; allowed: true \(the default\) when clientNamespaces names another namespace/);
});

describe('bad input fails at synth', () => {
  const location = REQUIRED.codeLocations![0];
  test.each([
    ['two code locations with one name', { codeLocations: [location, { ...location }] }, /^Dagster: invalid prop 'codeLocations\[1\].name' = "etl"; allowed: a name no other code location has/],
    ['a port of 0', { codeLocations: [{ ...location, port: 0 }] }, /invalid prop 'codeLocations\[0\].port' = 0; allowed: a TCP port, 1-65535/],
    ['a port above 65535', { codeLocations: [{ ...location, port: 70000 }] }, /'codeLocations\[0\].port' = 70000/],
    ['the webserver\'s port', { codeLocations: [{ ...location, port: 3000 }] }, /allowed: any port but the webserver's 3000/],
    ['max concurrent runs of 0', { maxConcurrentRuns: 0 }, /^Dagster: invalid prop 'maxConcurrentRuns' = 0; allowed: a whole number of at least 1/],
    ['two daemons', { daemonReplicas: 2 }, /^Dagster: invalid prop 'daemonReplicas' = 2; allowed: 1; a second daemon/],
    ['a code location without an image', { codeLocations: [{ ...location, image: '' }] }, /invalid prop 'codeLocations\[0\].image' = ""; allowed: the image/],
    ['a code location with both module and package', { codeLocations: [{ ...location, packageName: 'etl' }] }, /allowed: exactly one of module and packageName/],
    ['a code location name with "_"', { codeLocations: [{ ...location, name: 'my_etl' }] }, /invalid prop 'codeLocations\[0\].name' = "my_etl"; allowed: an RFC 1123 DNS label/],
    ['one webserver in PRODUCTION', { profile: StackProfile.PRODUCTION, webserverReplicas: 1 }, /'webserverReplicas' = 1; allowed: at least 2 in PRODUCTION/],
  ])('%s', (_name, props, message) => {
    expect(() => dagster(props as Partial<DagsterProps>)).toThrow(message);
  });
});

describe('Dagster on AWS', () => {
  describe.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('%s', profile => {
    const { stack, template } = synthReference(profile);
    const production = profile === StackProfile.PRODUCTION;
    const logicalId = (c: any) => stack.getLogicalId(c.node.defaultChild ?? c);

    test('its own PostgreSQL instance, the same component database as MLflow\'s', () => {
      template.hasResource('AWS::RDS::DBInstance', {
        DeletionPolicy: 'Snapshot',
        Properties: Match.objectLike({
          DBInstanceIdentifier: 'mlopsstack-dagster', DBName: 'dagster', StorageEncrypted: true,
          DBInstanceClass: production ? 'db.m7g.large' : 'db.t4g.micro', MultiAZ: production,
        }),
      });
      expect(Object.keys(template.findResources('AWS::RDS::DBInstance'))).toHaveLength(2);
    });

    test('compute logs: encrypted, retained, expiring after 90 days', () => {
      template.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-objects', ExpirationInDays: 90, Status: 'Enabled' })]) },
          BucketEncryption: Match.anyValue(),
        }),
      });
      expect(logicalId(stack.dagster.computeLogBucket)).toBe('DagsterComputeLogs43F569E6');
    });

    test('the webserver reads and run pods write compute logs; the daemon has no AWS role', () => {
      const statementsOf = (role: any) => {
        const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: any) =>
          JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: logicalId(role) }])) as any;
        return policy.Properties.PolicyDocument.Statement.map((st: any) => [st.Action].flat().sort().join(','));
      };
      expect(statementsOf(stack.dagster.webserverIdentity.role)).toEqual(['s3:ListBucket', 's3:GetObject', 'kms:Decrypt']);
      expect(statementsOf(stack.dagster.runIdentity.role)).toEqual(['s3:ListBucket', 's3:DeleteObject,s3:GetObject,s3:PutObject',
        'kms:Decrypt,kms:GenerateDataKey']);
      const accounts = Object.values(template.findResources('AWS::EKS::PodIdentityAssociation')).map((a: any) => a.Properties.ServiceAccount);
      expect(accounts).not.toContain('dagster-daemon');
    });

    test('the database Secret carries every variable dagster.yaml names, rendered in the cluster', () => {
      const objects = KubernetesManifests.fromStack(stack).map(o => o.object).filter(o => o.metadata?.namespace === 'dagster');
      const secret = objects.find(o => o.kind === 'ExternalSecret' && o.metadata.name === 'dagster-db');
      expect(Object.keys(secret.spec.target.template.data).sort()).toEqual(['DAGSTER_PG_DB', 'DAGSTER_PG_HOST', 'DAGSTER_PG_PASSWORD',
        'DAGSTER_PG_PORT', 'DAGSTER_PG_URI', 'DAGSTER_PG_USERNAME']);
      expect(stack.dagster.webserverUrl).toBe('http://dagster-webserver.dagster.svc:3000');
    });
  });
});
