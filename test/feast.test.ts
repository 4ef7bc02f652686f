import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import { parse } from 'yaml';
import {
  assertCronSchedule, FEAST_CLIENT_LABEL, FEAST_IMAGE, FeastFeatureStore, FeastFeatureStoreProps, FeastRedisType, KubernetesManifests,
  MlopsStack, REDIS_CLIENT_LABEL, RedisServer, StackProfile, VALKEY_IMAGE,
} from '../lib';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { constructAt } from '../lib/core/nag';
import { ONLINE_STORE_DEFAULT_ACCESS, ONLINE_STORE_READER_ACCESS, ONLINE_STORE_WRITER_ACCESS } from '../lib/feast/online-store-users';
import { synthReference } from './support/synth';

const REQUIRED: FeastFeatureStoreProps = {
  project: 'shop',
  registryPath: 's3://feast-bucket/registry/registry.pb',
  onlineStore: { connectionString: 'redis.feast.svc:6379', passwordSecretName: 'feast-online-store' },
};
const feast = (props: Partial<FeastFeatureStoreProps> = {}) => new FeastFeatureStore(new cdk8s.App(), 'Feast', { ...REQUIRED, ...props });
const ofKind = (c: cdk8s.Chart, kind: string) => c.toJson().filter((o: any) => o.kind === kind);
const server = (c: FeastFeatureStore) => ofKind(c, 'Deployment')[0].spec.template.spec.containers[0];
const cronJob = (c: FeastFeatureStore) => ofKind(c, 'CronJob')[0];
const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('FeastFeatureStore with only the required props', () => {
  const c = feast();
  const config = parse(ofKind(c, 'ConfigMap')[0].data['feature_store.yaml']);

  test('renders feature_store.yaml from the props: S3 registry, Redis online store with TLS, file offline store', () => {
    expect(config).toEqual({
      project: 'shop',
      provider: 'local',
      registry: { registry_type: 'file', path: 's3://feast-bucket/registry/registry.pb', cache_ttl_seconds: 60 },
      online_store: { type: 'redis', redis_type: 'redis', connection_string: 'redis.feast.svc:6379,ssl=true,password=${FEAST_REDIS_PASSWORD}' },
      offline_store: { type: 'dask' },
      entity_key_serialization_version: 3,
    });
    expect(c.featureStoreYaml).toBe(ofKind(c, 'ConfigMap')[0].data['feature_store.yaml']);
  });

  test('the password reaches Feast only from the Secret, through the environment', () => {
    for (const container of [server(c), cronJob(c).spec.jobTemplate.spec.template.spec.containers[0]]) {
      expect(envOf(container).FEAST_REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'feast-online-store', key: 'password' } });
    }
  });

  test('runs the pinned image as feast serve on 0.0.0.0 with the mounted configuration, probed on /health', () => {
    expect(server(c).image).toBe(`quay.io/feastdev/feature-server:${FEAST_IMAGE.release}`);
    expect(server(c).command).toEqual(['feast']);
    expect(server(c).args).toEqual(['--feature-store-yaml', '/etc/feast/feature_store.yaml', 'serve', '--host', '0.0.0.0',
      '--port', '6566', '--workers', '1', '--registry_ttl_sec', '60']);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(server(c)[probe].httpGet).toEqual({ path: '/health', port: 'http' });
    }
    expect(server(c).ports).toEqual([{ name: 'http', containerPort: 6566, protocol: 'TCP' }]);
  });

  test('an autoscaler owns the replica count; one replica and no disruption budget in DEVELOPMENT', () => {
    expect(ofKind(c, 'Deployment')[0].spec.replicas).toBeUndefined();
    expect(ofKind(c, 'HorizontalPodAutoscaler')[0].spec).toMatchObject({ minReplicas: 1, maxReplicas: 2,
      scaleTargetRef: { kind: 'Deployment', name: 'feast' } });
    expect(ofKind(c, 'PodDisruptionBudget')).toEqual([]);
  });

  test('materializes incrementally on a schedule, never two runs at once, with a deadline and retries', () => {
    const job = cronJob(c);
    expect(job.spec).toMatchObject({ schedule: '0 * * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    expect(job.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3000 });
    const pod = job.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe('feast-materializer');
    expect(pod.containers[0].command.join(' ')).toMatch(/feast --feature-store-yaml \/etc\/feast\/feature_store.yaml materialize-incremental "\$\(date -u/);
    expect(envOf(pod.containers[0]).PYTHONPATH).toBe('/etc/feast/python');
  });

  test('every pod meets Pod Security "restricted"; no ServiceAccount token is mounted', () => {
    const pods = c.toJson().flatMap(podSpecsOf);
    expect(pods).toHaveLength(2);
    expect(pods.flatMap(restrictedViolations)).toEqual([]);
    for (const pod of pods) expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('the NetworkPolicy admits only labelled clients of its own namespace, on the server port', () => {
    expect(ofKind(c, 'NetworkPolicy')[0].spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'feast' } }, podSelector: { matchLabels: { [FEAST_CLIENT_LABEL]: 'true' } } }],
      ports: [{ port: 6566, protocol: 'TCP' }],
    }]);
  });
});

describe('FeastFeatureStore in PRODUCTION against Redis Cluster', () => {
  const c = feast({
    profile: StackProfile.PRODUCTION,
    onlineStore: { connectionString: 'a.example.com:6379,b.example.com:6379', redisType: FeastRedisType.REDIS_CLUSTER,
      passwordSecretName: 'online', keyTtlSeconds: 3600 },
    materialization: { schedule: '*/15 * * * *' },
  });

  test('runs at least two replicas spread over zones, with a disruption budget', () => {
    expect(ofKind(c, 'HorizontalPodAutoscaler')[0].spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(ofKind(c, 'PodDisruptionBudget')[0].spec.maxUnavailable).toBe(1);
    expect(ofKind(c, 'Deployment')[0].spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
  });

  test('tells Feast the server runs cluster mode', () => {
    const config = parse(c.featureStoreYaml);
    expect(config.online_store).toEqual({ type: 'redis', redis_type: 'redis_cluster', key_ttl_seconds: 3600,
      connection_string: 'a.example.com:6379,b.example.com:6379,ssl=true,password=${FEAST_REDIS_PASSWORD}' });
  });
});

describe('RedisServer', () => {
  const app = new cdk8s.App();
  const redis = new RedisServer(app, 'Redis', { passwordSecretName: 'redis-auth' });
  const c = new FeastFeatureStore(app, 'Feast', {
    ...REQUIRED, onlineStore: { connectionString: redis.endpoint, tls: false, passwordSecretName: 'redis-auth', clientPodLabels: redis.clientLabels },
  });
  const set = ofKind(redis, 'StatefulSet')[0];
  const container = set.spec.template.spec.containers[0];

  test('runs pinned Valkey with the password from the Secret and every write in an append-only file on a retained volume', () => {
    expect(container.image).toBe(`docker.io/valkey/valkey:${VALKEY_IMAGE.tag}`);
    expect(container.args).toEqual(['--port', '6379', '--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--save', '', '--dir', '/data', '--maxmemory', '192mb', '--maxmemory-policy', 'noeviction']);
    expect(envOf(container).REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'redis-auth', key: 'password' } });
    expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    expect(set.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(container.readinessProbe.exec.command.join(' ')).toMatch(/valkey-cli -p 6379 ping\)" = PONG/);
    expect(restrictedViolations(set.spec.template.spec)).toEqual([]);
  });

  test('admits only the Feast pods that carry its client label, which both Feast workloads do', () => {
    expect(ofKind(redis, 'NetworkPolicy')[0].spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'feast' } }, podSelector: { matchLabels: { [REDIS_CLIENT_LABEL]: 'redis' } } }],
      ports: [{ port: 6379, protocol: 'TCP' }],
    }]);
    for (const pod of [ofKind(c, 'Deployment')[0].spec.template, cronJob(c).spec.jobTemplate.spec.template]) {
      expect(pod.metadata.labels[REDIS_CLIENT_LABEL]).toBe('redis');
    }
    expect(parse(c.featureStoreYaml).online_store.connection_string).toBe('redis.feast.svc:6379,ssl=false,password=${FEAST_REDIS_PASSWORD}');
  });
});

describe('Feast on AWS', () => {
  describe.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('%s', profile => {
    const { stack, template } = synthReference(profile);
    const production = profile === StackProfile.PRODUCTION;

    test('the online store is Valkey, TLS-only with RBAC users, encrypted, snapshotted on delete', () => {
      template.hasResource('AWS::ElastiCache::ReplicationGroup', {
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
        Properties: Match.objectLike({
          Engine: 'valkey',
          CacheNodeType: production ? 'cache.m7g.large' : 'cache.t4g.micro',
          NumCacheClusters: production ? 2 : 1,
          AutomaticFailoverEnabled: production,
          MultiAZEnabled: production,
          TransitEncryptionEnabled: true,
          TransitEncryptionMode: 'required',
          AtRestEncryptionEnabled: true,
          KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(stack.feast.dataKey.node.defaultChild as any), 'Arn'] },
          ReplicationGroupId: 'mlopsstack-feast',
          UserGroupIds: [{ Ref: stack.getLogicalId(constructAt(stack.feast, 'OnlineStoreUsers') as any) }],
          AuthToken: Match.absent(),
        }),
      });
    });

    test('the server and clients sign in as a read-only user, materialization as a writer, and the default user is off', () => {
      const users = Object.values(template.findResources('AWS::ElastiCache::User')).map((r: any) => r.Properties);
      const byName = Object.fromEntries(users.map(u => [u.UserName, u]));
      expect(Object.keys(byName).sort()).toEqual(['default', 'feast-reader', 'feast-writer']);
      expect(byName.default.AccessString).toBe(ONLINE_STORE_DEFAULT_ACCESS);
      expect(byName['feast-reader'].AccessString).toBe(ONLINE_STORE_READER_ACCESS);
      expect(byName['feast-writer'].AccessString).toBe(ONLINE_STORE_WRITER_ACCESS);
      // Each password is a dynamic reference to its own secret; the default user's is the former AUTH token's.
      const secretOf = (u: any) => JSON.stringify(u.AuthenticationMode.Passwords);
      expect(secretOf(byName.default)).toContain(stack.getLogicalId(stack.feast.authToken.node.defaultChild as any));
      expect(secretOf(byName['feast-reader'])).toContain(stack.getLogicalId(stack.feast.readerPassword.node.defaultChild as any));
      expect(secretOf(byName['feast-writer'])).toContain(stack.getLogicalId(stack.feast.writerPassword.node.defaultChild as any));
      for (const u of users) {
        expect(u.Engine).toBe('valkey');
        expect(u.AuthenticationMode.Type).toBe('password');
        expect(secretOf(u)).toMatch(/resolve:secretsmanager:.*:SecretString:password::/);
      }
      const [group] = Object.values(template.findResources('AWS::ElastiCache::UserGroup')).map((r: any) => r.Properties);
      expect(group.UserIds).toHaveLength(3);
      // Only the two users' passwords reach the cluster; the default user's reaches no one.
      const granted = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy')));
      expect(granted).not.toContain(stack.getLogicalId(stack.feast.authToken.node.defaultChild as any));
    });

    test('only the cluster reaches the online store, on 6379', () => {
      const groups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Feast online store') } });
      const [id] = Object.keys(groups);
      const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties)
        .filter(p => JSON.stringify(p.GroupId).includes(id));
      expect(rules).toEqual([expect.objectContaining({ FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp',
        SourceSecurityGroupId: { 'Fn::GetAtt': [stack.getLogicalId(stack.cluster.node.defaultChild as any), 'ClusterSecurityGroupId'] } })]);
      expect(Object.values(groups)[0].Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    });

    test('the feature server reads only the registry; the materializer reads offline data and writes the registry', () => {
      const actionsOn = (role: any) => {
        const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: any) =>
          JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: stack.getLogicalId(role.node.defaultChild) }])) as any;
        return policy.Properties.PolicyDocument.Statement.map((s: any) => `${[s.Action].flat().sort().join(',')} ${JSON.stringify(s.Resource)}`)
          .filter((s: string) => s.includes('s3:Get') || s.includes('s3:Put')).map((s: string) => s.replace(/\{.*\/(\w+)\/\*.*$/, '$1'));
      };
      expect(actionsOn(stack.feast.serverIdentity.role)).toEqual(['s3:GetObject registry']);
      expect(actionsOn(stack.feast.materializerIdentity.role).sort()).toEqual(['s3:DeleteObject,s3:GetObject,s3:PutObject registry', 's3:GetObject offline']);
    });

    test('the manifest carries the password only as an ExternalSecret, and the store it names is the stack\'s', () => {
      const objects = KubernetesManifests.fromStack(stack).map(o => o.object).filter(o => o.metadata?.namespace === 'feast');
      const external = objects.filter(o => o.kind === 'ExternalSecret');
      expect(external.map(o => o.metadata.name)).toEqual(['feast-online-store', 'feast-online-store-writer']);
      expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
      const config = parse(objects.find(o => o.kind === 'ConfigMap').data['feature_store.yaml']);
      expect(config.online_store.connection_string).toMatch(/,ssl=true,username=\$\{FEAST_REDIS_USERNAME\},password=\$\{FEAST_REDIS_PASSWORD\}$/);
      // The server reads as the reader; only the materializer gets the writer's password.
      const envOf = (podSpec: any) => Object.fromEntries(podSpec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom.secretKeyRef.name]));
      const server = envOf(objects.find(o => o.kind === 'Deployment').spec.template.spec);
      const materializer = envOf(objects.find(o => o.kind === 'CronJob').spec.jobTemplate.spec.template.spec);
      expect([server.FEAST_REDIS_USERNAME, server.FEAST_REDIS_PASSWORD]).toEqual(['feast-reader', 'feast-online-store']);
      expect([materializer.FEAST_REDIS_USERNAME, materializer.FEAST_REDIS_PASSWORD]).toEqual(['feast-writer', 'feast-online-store-writer']);
      expect(config.provider).toBe('aws');
    });

    test('outputs the client configuration and where the password is', () => {
      const outputs = Object.keys(template.findOutputs('*'));
      for (const name of ['FeatureStoreYaml', 'OnlineStorePasswordSecret', 'OnlineStoreEndpoint']) {
        expect(outputs.some(o => o.startsWith(`Feast${name}`))).toBe(true);
      }
    });
  });
});

// Each message names the construct, the prop and what is allowed.
describe('bad input fails at synth', () => {
  test.each([
    ['an invalid project name', () => feast({ project: '_shop' }), /^Feast: invalid prop 'project' = "_shop"; allowed: letters, digits/],
    ['a project name with a space', () => feast({ project: 'my shop' }), /invalid prop 'project' = "my shop"/],
    ['a cron with four fields', () => feast({ materialization: { schedule: '0 * * *' } }),
      /^Feast: invalid prop 'materialization.schedule' = "0 \* \* \*"; allowed: five fields/],
    ['a cron minute of 60', () => feast({ materialization: { schedule: '60 * * * *' } }), /'materialization.schedule' = "60 \* \* \* \*"; minute "60": values 0-59/],
    ['a cron step of 0', () => feast({ materialization: { schedule: '*/0 * * * *' } }), /a step must be a whole number greater than 0/],
    ['a registry cache TTL of 0', () => feast({ registryCacheTtlSeconds: 0 }), /^Feast: invalid prop 'registryCacheTtlSeconds' = 0; allowed: a whole number of seconds greater than 0/],
    ['a key TTL below 0', () => feast({ onlineStore: { ...REQUIRED.onlineStore, keyTtlSeconds: -5 } }), /invalid prop 'onlineStore.keyTtlSeconds' = -5/],
    ['a connection string with a literal password',
      () => feast({ onlineStore: { connectionString: 'redis:6379,password=hunter2', passwordSecretName: 'x' } }),
      /^Feast: invalid prop 'onlineStore.connectionString' = "<redacted: it holds a password>"; allowed: host:port addresses only; a password/],
    ['two hosts without cluster mode', () => feast({ onlineStore: { connectionString: 'a:6379,b:6379', passwordSecretName: 'x' } }),
      /'onlineStore.connectionString' = "a:6379,b:6379"; allowed: one host:port with redisType REDIS/],
    ['writer credentials without a server user', () => feast({ onlineStore: { ...REQUIRED.onlineStore, writer: { username: 'w', passwordSecretName: 'w' } } }),
      /^Feast: invalid prop 'onlineStore.writer' = "w"; allowed only with onlineStore.username/],
    ['a user name with a comma', () => feast({ onlineStore: { ...REQUIRED.onlineStore, username: 'reader,ssl=false' } }),
      /^Feast: invalid prop 'onlineStore.username' = "reader,ssl=false"; allowed: 1-64 letters/],
    ['a writer name that starts with a digit', () => feast({ onlineStore: { ...REQUIRED.onlineStore, username: 'r', writer: { username: '1w', passwordSecretName: 'w' } } }),
      /invalid prop 'onlineStore.writer.username' = "1w"/],
    ['a registry that is not an S3 object', () => feast({ registryPath: 'gs://bucket/registry.pb' }), /invalid prop 'registryPath' = "gs:\/\/bucket\/registry.pb"; allowed: an S3 object URI/],
    ['one feature server in PRODUCTION', () => feast({ profile: StackProfile.PRODUCTION, replicas: 1 }), /invalid prop 'replicas' = 1; allowed: at least 2 in PRODUCTION/],
    ['a ceiling below the floor', () => feast({ replicas: 3, maxReplicas: 2 }), /invalid prop 'maxReplicas' = 2; allowed: at least replicas \(3\)/],
    ['PRODUCTION with one Redis node on AWS', () => new MlopsStack(new App(), 'Stack', { profile: StackProfile.PRODUCTION, feast: { cacheNodes: 1 } }),
      /^Stack\/Feast: invalid prop 'cacheNodes' = 1; allowed: at least 2 in PRODUCTION/],
    ['PRODUCTION with the single in-cluster Redis node', () => new RedisServer(new cdk8s.App(), 'Redis', { passwordSecretName: 'r', profile: StackProfile.PRODUCTION }),
      /^Redis: invalid prop 'profile' = "production"; allowed: DEVELOPMENT only/],
    ['a replication group id with two hyphens', () => new MlopsStack(new App(), 'Stack', { feast: { replicationGroupId: 'fe--ast' } }),
      /invalid prop 'replicationGroupId' = "fe--ast"; allowed: 1-40 lowercase letters/],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('the refused password is not echoed in the message', () => {
    expect(() => feast({ onlineStore: { connectionString: 'redis:6379,password=hunter2', passwordSecretName: 'x' } })).not.toThrow(/hunter2/);
  });

  test.each(['*/15 * * * *', '0 3 * * mon-fri', '5,35 0-23/2 1 jan,jul *', '@hourly', '0 0 * * 7'])('the schedule "%s" is accepted', schedule => {
    expect(() => assertCronSchedule('C', 'schedule', schedule)).not.toThrow();
  });

  test('a long stack name still gives a valid replication group id', () => {
    const s = new MlopsStack(new App(), 'AVeryLongStackNameForTheFeatureStoreOfTheTeam');
    const group = Object.values(Template.fromStack(s).findResources('AWS::ElastiCache::ReplicationGroup'))[0] as any;
    expect(group.Properties.ReplicationGroupId).toMatch(/^averylongstacknameforthefeature-[0-9a-f]{8}$/);
    expect(group.Properties.ReplicationGroupId.length).toBeLessThanOrEqual(40);
    expect(Stack.of(s).stackName).toBe('AVeryLongStackNameForTheFeatureStoreOfTheTeam');
  });
});
