import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { MlopsStack, ModelFormat, PayloadLogFormat, StackProfile } from '../lib';
import { synthReference } from './support/synth';

/** Resource types that hold data or the keys to it. */
const STATEFUL_TYPES = [
  'AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::RDS::DBInstance', 'AWS::RDS::DBCluster',
  'AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::CacheCluster', 'AWS::ElastiCache::ServerlessCache',
  'AWS::DynamoDB::Table', 'AWS::EFS::FileSystem', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret',
];
const KEEPS_DATA = ['Retain', 'Snapshot', 'RetainExceptOnCreate'];

function statefulResources(template: any): Record<string, any> {
  return Object.fromEntries(Object.entries(template.Resources as Record<string, any>)
    .filter(([, r]) => STATEFUL_TYPES.includes(r.Type)));
}

// Pinned: a refactor that renames one of these would make CloudFormation create a new, empty
// resource and orphan (or delete) the old one. Changing this list is a migration, not a cleanup.
const PINNED_LOGICAL_IDS = {
  DvcRemoteAccessLogsB81CB56D: 'AWS::S3::Bucket',
  DvcRemoteBucket9380F5B1: 'AWS::S3::Bucket',
  DvcRemoteKeyD7308BAF: 'AWS::KMS::Key',
  DriftKey6FCB7E7B: 'AWS::KMS::Key',
  DriftReportsD618165F: 'AWS::S3::Bucket',
  DagsterComputeLogs43F569E6: 'AWS::S3::Bucket',
  DagsterDataKeyED0E26E7: 'AWS::KMS::Key',
  DagsterDatabase52C30A79: 'AWS::RDS::DBInstance',
  DagsterDatabaseServerCredentials883F4C62: 'AWS::SecretsManager::Secret',
  MlopsStackDagsterDatabaseSecret8D2B0FEE853fe476eeba2ae847b86c46f1a9a0a5: 'AWS::SecretsManager::Secret',
  KServePayloadLogKeyE66F67D1: 'AWS::KMS::Key',
  KServePayloadLogs27A2BDB9: 'AWS::S3::Bucket',
  FeastDataBA04A5BE: 'AWS::S3::Bucket',
  FeastDataKey95E0A673: 'AWS::KMS::Key',
  FeastOnlineStoreAuthToken18C1C5E8: 'AWS::SecretsManager::Secret',
  FeastOnlineStoreC2F88D1E: 'AWS::ElastiCache::ReplicationGroup',
  FeastOnlineStoreReaderPasswordE4B60C59: 'AWS::SecretsManager::Secret',
  FeastOnlineStoreWriterPassword06AFAEED: 'AWS::SecretsManager::Secret',
  MlflowArtifactKey98EFB27B: 'AWS::KMS::Key',
  MlflowArtifacts3D6BA9CD: 'AWS::S3::Bucket',
  MlflowDatabase34AD818F: 'AWS::RDS::DBInstance',
  MlopsStackMlflowDatabaseSecret1FE24464853fe476eeba2ae847b86c46f1a9a0a5: 'AWS::SecretsManager::Secret',
  MlflowDatabaseServerCredentials20BB7AAE: 'AWS::SecretsManager::Secret',
  PlatformFlowLogsD65C18D7: 'AWS::Logs::LogGroup',
  // From the useCdkManagedLogGroup feature flag (cdk.json): the kubectl provider's own log groups.
  PlatformClusterKubectlProviderHandlerLogGroup32BF42C7: 'AWS::Logs::LogGroup',
  PlatformClusterKubectlProviderframeworkonEventLogGroup5BED9A9D: 'AWS::Logs::LogGroup',
  PlatformFlowLogsKeyE50C971D: 'AWS::KMS::Key',
  PlatformSecretsKey34DD3095: 'AWS::KMS::Key',
};

// Not stateful themselves, but a new logical ID replaces them: a new cluster (every workload and its
// in-cluster state gone), new subnets (which replace the cluster), or a Helm release or manifest
// uninstalled and installed again (a Namespace deleted with all it holds, CRDs with their objects).
const PINNED_PLATFORM_IDS = {
  'AWS::EKS::Cluster': ['PlatformCluster6842C9C4'],
  'AWS::EC2::VPC': ['PlatformVpcB7D6B3DD'],
  'Custom::AWSCDK-EKS-HelmChart': ['PlatformClusterchartExternalSecretsChart416BAA4D', 'PlatformClusterchartKServeCertManager5F0F35DD',
    'PlatformClusterchartKServeCrds87007AB5', 'PlatformClusterchartKServeRuntimes54A32726', 'PlatformClusterchartKServeControllerA5EBB795'],
};

describe('stateful resources', () => {
  const dev = synthReference(StackProfile.DEVELOPMENT).template.toJSON();
  const prod = synthReference(StackProfile.PRODUCTION).template.toJSON();

  test.each([['development', dev], ['production', prod]])('%s: each is retained or snapshotted on delete and on replacement', (_p, template) => {
    const stateful = statefulResources(template);
    expect(Object.keys(stateful).length).toBeGreaterThan(0);
    const losesData = Object.entries(stateful)
      .filter(([, r]) => !KEEPS_DATA.includes(r.DeletionPolicy) || !KEEPS_DATA.includes(r.UpdateReplacePolicy))
      .map(([id, r]) => `${id} (${r.Type}): DeletionPolicy=${r.DeletionPolicy}, UpdateReplacePolicy=${r.UpdateReplacePolicy}`);
    expect(losesData).toEqual([]);
  });

  test('the cluster, its network and what it installs keep their logical IDs', () => {
    for (const template of [dev, prod]) {
      const ids = (type: string) => Object.entries(template.Resources as Record<string, any>).filter(([, r]) => r.Type === type).map(([id]) => id);
      for (const [type, pinned] of Object.entries(PINNED_PLATFORM_IDS)) expect({ type, ids: ids(type) }).toEqual({ type, ids: pinned });
      expect(ids('AWS::EC2::Subnet').every(id => /^PlatformVpc(public|private)Subnet\d+Subnet[0-9A-F]{8}$/.test(id))).toBe(true);
      expect(ids('AWS::EC2::Subnet').length).toBeGreaterThanOrEqual(4);
      expect(ids('Custom::AWSCDK-EKS-KubernetesResource').sort()).toEqual([
        'PlatformClusterExternalSecretsNamespace5E896DF6', 'PlatformClusterExternalSecretsStore7304AC26',
        'PlatformClusterExternalSecretsStoredagsterF3E13C9D', 'PlatformClusterExternalSecretsStorefeastCD3E237B', 'PlatformClusterExternalSecretsStoremlflow5A9E1F86',
        'PlatformClusterMlflowChart828D13F5', 'PlatformClusterFeastChart155F41DD', 'PlatformClusterDagsterChart8CF4D463', 'PlatformClusterWorkloadNamespaceE390A02F', 'PlatformClusterNodesD91F1462',
        'PlatformClusterKServeModels01D3C703', 'PlatformClusterKServeNamespaces1979329F', 'PlatformClusterDriftNamespace67D1A273',
      ].sort());
    }
  });

  test('their logical IDs are pinned', () => {
    const types = (t: any) => Object.fromEntries(Object.entries(statefulResources(t)).map(([id, r]) => [id, r.Type]));
    expect(types(dev)).toEqual(PINNED_LOGICAL_IDS);
    expect(types(prod)).toEqual(PINNED_LOGICAL_IDS);
  });

  test('changing other props keeps every stateful resource and all of its properties', () => {
    const variant = synthReference(StackProfile.DEVELOPMENT, {
      adminRoleArn: 'arn:aws:iam::123456789012:role/PlatformAdmin',
      endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24'),
      dvc: { noncurrentVersionExpirationDays: 30, remoteName: 'team' },
      mlflow: { name: 'tracking', namespace: 'ml-platform', clientNamespaces: ['training'], replicas: 2, workers: 3 },
      dagster: { name: 'orchestration', namespace: 'ml-orchestration', maxConcurrentRuns: 3, readOnlyWebserver: true,
        codeLocations: [{ name: 'etl', image: 'registry.example.com/etl:1', module: 'etl.definitions' }] },
      feast: { name: 'features', namespace: 'ml-features', project: 'shop', clientNamespaces: ['training'], replicas: 2, materializationSchedule: '*/30 * * * *' },
      kserve: { modelNamespace: 'serving', payloadLogFormat: PayloadLogFormat.PARQUET, clientNamespaces: ['apps'],
        models: [{ name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris' }], modelSourceBuckets: [{ bucketName: 'models', prefix: 'iris' }] },
    }).template.toJSON();
    const before = statefulResources(dev);
    const after = statefulResources(variant);
    // Same logical IDs: none may go or be renamed.
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    // Properties that may follow the changed props; everything else (names, keys, encryption,
    // engine, subnets: whatever could force a replacement) must be identical.
    const mayChange: Record<string, string[]> = { DvcRemoteBucket9380F5B1: ['LifecycleConfiguration'] };
    for (const [id, resource] of Object.entries(before)) {
      const strip = (props: any) => Object.fromEntries(Object.entries(props ?? {}).filter(([k]) => !(mayChange[id] ?? []).includes(k)));
      expect({ id, properties: strip(after[id].Properties) }).toEqual({ id, properties: strip(resource.Properties) });
    }
    // The comparison is not vacuous: the variant did change a stateful resource where it may.
    expect(after.DvcRemoteBucket9380F5B1.Properties.LifecycleConfiguration)
      .not.toEqual(before.DvcRemoteBucket9380F5B1.Properties.LifecycleConfiguration);
    expect(Object.values(before).every(r => Object.keys(r.Properties ?? {}).length > 0)).toBe(true);
  });

  test('the drift bucket and its key are the same whether or not a model has a drift check', () => {
    // Dropping the last check must not take the retained bucket (and the references in it) out of
    // the stack, nor adding one make a new, empty bucket beside the old one.
    const checked = synthReference(StackProfile.DEVELOPMENT, {
      kserve: { models: [{ name: 'iris', modelFormat: ModelFormat.SKLEARN, storageUri: 's3://models/iris',
        driftCheck: { features: ['sepal_length'] } }], modelSourceBuckets: [{ bucketName: 'models', prefix: 'iris' }] },
    }).template.toJSON();
    for (const id of ['DriftReportsD618165F', 'DriftKey6FCB7E7B']) {
      expect(checked.Resources[id]).toEqual(dev.Resources[id]);
    }
    // The check is there: the comparison is between a stack with one and one without.
    const driftAlarms = (t: any) => Object.values(t.Resources as Record<string, any>).filter(r => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'MLOps/Drift');
    expect(driftAlarms(checked)).toHaveLength(2);
    expect(driftAlarms(dev)).toHaveLength(0);
  });

  test('adopting the feature flags of cdk.json replaces nothing stateful', () => {
    // The same stack as a stack deployed before the flags were adopted (a bare App has none).
    const before = statefulResources(Template.fromStack(new MlopsStack(new App(), 'MlopsStack')).toJSON());
    const after = statefulResources(dev);
    // Resources the flags add (the kubectl provider's log groups) are new, not replacements.
    const added = Object.keys(after).filter(id => !(id in before));
    expect(added.sort()).toEqual(['PlatformClusterKubectlProviderHandlerLogGroup32BF42C7', 'PlatformClusterKubectlProviderframeworkonEventLogGroup5BED9A9D']);
    // Every other one keeps its logical ID and every property that could force a replacement; key
    // policies (updated in place) are reordered by @aws-cdk/aws-iam:minimizePolicies.
    expect(Object.keys(before).filter(id => !(id in after))).toEqual([]);
    for (const [id, resource] of Object.entries(before)) {
      const props = (r: any) => Object.fromEntries(Object.entries(r.Properties ?? {}).filter(([k]) => k !== 'KeyPolicy'));
      expect({ id, properties: props(after[id]) }).toEqual({ id, properties: props(resource) });
      expect({ id, policies: [after[id].DeletionPolicy, after[id].UpdateReplacePolicy] })
        .toEqual({ id, policies: [resource.DeletionPolicy, resource.UpdateReplacePolicy] });
    }
  });
});
