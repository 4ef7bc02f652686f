import { App, CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { addComponentNamespaces, EXTERNAL_SECRETS_CHART, ExternalSecrets, KubernetesManifests, MlopsStack, namespaceSecretStore, StackProfile } from '../lib';
import { renderHelmReleases } from './support/helm';
import { podSpecsOf } from './support/pod-security';
import { synthReference } from './support/synth';

const dev = synthReference(StackProfile.DEVELOPMENT);
const prod = synthReference(StackProfile.PRODUCTION);

describe('profiles set the cost and availability defaults', () => {
  test('DEVELOPMENT runs one NAT instance and no gateway (test/nat.test.ts)', () => {
    dev.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    dev.template.resourceCountIs('AWS::EC2::Instance', 1);
  });

  test('PRODUCTION runs one NAT gateway per AZ', () => {
    const publicSubnets = Object.values(prod.template.findResources('AWS::EC2::Subnet', {
      Properties: { MapPublicIpOnLaunch: true },
    })).length;
    expect(publicSubnets).toBeGreaterThanOrEqual(2);
    prod.template.resourceCountIs('AWS::EC2::NatGateway', publicSubnets);
  });

  test('PRODUCTION spans three AZs when the environment is known', () => {
    const app = new App();
    const stack = new MlopsStack(app, 'Env', { profile: StackProfile.PRODUCTION, env: { account: '123456789012', region: 'eu-west-1' } });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::NatGateway', 3);
  });

  test.each([[dev, 30], [prod, 365]])('flow logs are on, kept by profile', (synth, days) => {
    synth.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
    synth.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: days });
  });
});

describe('the EKS cluster', () => {
  const { template } = dev;

  test('runs Kubernetes 1.35 in Auto Mode with every control-plane log and KMS-encrypted Secrets', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: '1.35',
      ComputeConfig: { Enabled: true, NodePools: ['system'] },
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map(Type => ({ Type })) } },
      EncryptionConfig: [{ Provider: { KeyArn: Match.anyValue() }, Resources: ['secrets'] }],
      AccessConfig: { AuthenticationMode: 'API' },
    });
  });

  test('makes nobody cluster-admin implicitly: not the CloudFormation role, only the kubectl provider and adminRoleArn', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { AccessConfig: { BootstrapClusterCreatorAdminPermissions: false } });
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')) as any[];
    // The kubectl handler's role only (no adminRoleArn in this stack; lib/platform/kubectl-access.ts).
    expect(entries).toHaveLength(1);
    expect(JSON.stringify(entries[0].Properties.PrincipalArn)).toMatch(/KubectlAccessHandlerRole/);
  });

  test('enforces NetworkPolicy on every node workloads can land on', () => {
    // Built-in pools cannot enforce NetworkPolicy (their NodeClass is fixed); only `system` stays,
    // and it is tainted for cluster add-ons.
    template.hasResourceProperties('AWS::EKS::Cluster', { ComputeConfig: { NodePools: ['system'] } });
    const objects = KubernetesManifests.fromStack(dev.stack).filter(o => o.logicalId.startsWith('PlatformClusterNodes'));
    const byKind = Object.fromEntries(objects.map(o => [o.object.kind, o.object]));
    expect(byKind.ConfigMap).toMatchObject({
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' }, data: { 'enable-network-policy-controller': 'true' },
    });
    expect(byKind.NodeClass.spec).toMatchObject({ networkPolicy: 'DefaultAllow', role: expect.stringMatching(/ClusternodePoolRole/) });
    expect(byKind.NodePool.spec.template.spec.nodeClassRef).toEqual({ group: 'eks.amazonaws.com', kind: 'NodeClass', name: byKind.NodeClass.metadata.name });
    // The built-in general-purpose pool's requirements (EKS user guide, "Auto Mode built-in node
    // pools"): what the cost model prices and what capacity the pods were sized for. Any change to
    // these lets Auto Mode pick other families or Spot, so the whole set is pinned.
    expect(byKind.NodePool.spec.template.spec.requirements).toEqual([
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
      { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: ['4'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ]);
    expect(byKind.NodePool.spec.template.spec).toMatchObject({ expireAfter: '336h', terminationGracePeriod: '24h0m0s' });
    expect(byKind.NodePool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '10%' }] });
    expect(byKind.NodeClass.spec.securityGroupSelectorTerms).toEqual([{ id: expect.stringMatching(/ClusterSecurityGroupId/) }]);
    // Half of Auto Mode's default in DEVELOPMENT (what the cost model bills; lib/core/profile.ts).
    expect(byKind.NodeClass.spec.ephemeralStorage).toEqual({ size: '40Gi' });
    const prodClass = KubernetesManifests.fromStack(prod.stack).find(o => o.logicalId.startsWith('PlatformClusterNodes') && o.object.kind === 'NodeClass')!;
    expect(prodClass.object.spec.ephemeralStorage).toEqual({ size: '80Gi' });
    // Pod addresses come only from the private subnets, which the ingress allow-lists rely on.
    const privateSubnets = Object.entries(template.findResources('AWS::EC2::Subnet'))
      .filter(([id]) => id.includes('private')).map(([id]) => ({ id: `\${Ref:${id}}` }));
    expect(byKind.NodeClass.spec.subnetSelectorTerms).toEqual(privateSubnets);
  });

  test('installs nothing with pods before the enforcing node pool exists', () => {
    const resources = template.toJSON().Resources as Record<string, any>;
    const [nodes] = Object.keys(resources).filter(id => id.startsWith('PlatformClusterNodes'));
    const dependsOn = (id: string, target: string, seen = new Set<string>()): boolean =>
      (resources[id].DependsOn ?? []).some((d: string) => d === target || (!seen.has(d) && seen.add(d) && dependsOn(d, target, seen)));
    const manifestsWithPods = KubernetesManifests.fromStack(dev.stack)
      .filter(o => ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Pod', 'InferenceService'].includes(o.object.kind)).map(o => o.logicalId);
    // Releases that start pods (KServe's CRD and runtime releases start none, and need not wait).
    const charts = renderHelmReleases(template.toJSON()).filter(r => r.objects.some(o => podSpecsOf(o).length > 0)).map(r => r.logicalId);
    expect(Object.keys(template.findResources('Custom::AWSCDK-EKS-HelmChart')).length - charts.length).toBe(2);
    const withPods = [...new Set([...manifestsWithPods, ...charts])];
    expect(manifestsWithPods.length).toBeGreaterThanOrEqual(1);
    expect(charts.length).toBeGreaterThanOrEqual(1);
    for (const id of withPods) expect({ id, afterNodes: dependsOn(id, nodes) }).toEqual({ id, afterNodes: true });
  });

  test('every output tells the operator what it is', () => {
    const outputs = Object.entries<any>(template.findOutputs('*'));
    expect(outputs.length).toBeGreaterThanOrEqual(7);
    for (const [name, output] of outputs) {
      expect({ name, words: (output.Description ?? '').split(/\s+/).filter(Boolean).length >= 3 }).toEqual({ name, words: true });
    }
  });

  test('keeps the API endpoint private by default', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
    });
  });

  test('grants cluster-admin to the admin role through an access entry', () => {
    const stack = new MlopsStack(new App(), 'Admin', { adminRoleArn: 'arn:aws:iam::123456789012:role/PlatformAdmin' });
    const entries = Template.fromStack(stack).findResources('AWS::EKS::AccessEntry', {
      Properties: { PrincipalArn: 'arn:aws:iam::123456789012:role/PlatformAdmin' },
    });
    const [entry] = Object.values(entries) as any[];
    expect(entry.Properties.AccessPolicies).toHaveLength(1);
    expect(entry.Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'cluster' });
    expect(JSON.stringify(entry.Properties.AccessPolicies[0].PolicyArn)).toMatch(/:cluster-access-policy\/AmazonEKSClusterAdminPolicy"/);
  });

  test('outputs the kubeconfig command, and without an admin role how to get access first', () => {
    const [output] = Object.entries(template.findOutputs('*')).filter(([k]) => k.includes('UpdateKubeconfig')).map(([, o]) => o);
    expect(JSON.stringify(output.Value)).toContain('aws eks update-kubeconfig');
    expect(output.Description).toMatch(/create-access-entry[\s\S]*adminRoleArn/);
  });

  test('each component namespace enforces, audits and warns on Pod Security "restricted" and denies ingress by default', () => {
    const objects = KubernetesManifests.fromStack(dev.stack).map(o => o.object);
    const namespaces = objects.filter(o => o.kind === 'Namespace');
    expect(namespaces.map(n => n.metadata.name).sort()).toEqual(['cert-manager', 'dagster', 'external-secrets', 'feast', 'kserve', 'mlflow', 'models', 'monitoring']);
    for (const ns of namespaces) {
      expect(ns.metadata.labels).toMatchObject(Object.fromEntries(['enforce', 'audit', 'warn']
        .map(mode => [`pod-security.kubernetes.io/${mode}`, 'restricted'])));
      // Every object of the library can be selected by this label.
      expect(ns.metadata.labels['app.kubernetes.io/part-of']).toBe('cdk-mlops-stack');
      const denyAll = objects.filter(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns.metadata.name
        && JSON.stringify(o.spec) === JSON.stringify({ podSelector: {}, policyTypes: ['Ingress'] }));
      expect({ ns: ns.metadata.name, denyAll: denyAll.length }).toEqual({ ns: ns.metadata.name, denyAll: 1 });
    }
  });

  test('no two components share a namespace: a ServiceAccount and its role are reachable only from its own component', () => {
    const objects = KubernetesManifests.fromStack(dev.stack).map(o => o.object);
    const byNamespace = new Map<string, Set<string>>();
    for (const o of objects.filter(x => x.metadata?.namespace && x.metadata.namespace !== 'kube-system' && x.metadata?.labels?.['app.kubernetes.io/name'])) {
      const components = byNamespace.get(o.metadata.namespace) ?? new Set<string>();
      components.add(o.metadata.labels['app.kubernetes.io/name'].replace(/-webhook$/, ''));
      byNamespace.set(o.metadata.namespace, components);
    }
    expect(byNamespace.size).toBeGreaterThanOrEqual(2);
    for (const [namespace, components] of byNamespace) expect({ namespace, components: components.size }).toEqual({ namespace, components: 1 });
    // And each pod identity is bound in its component's namespace.
    const associations = Object.values(template.findResources('AWS::EKS::PodIdentityAssociation')) as any[];
    expect(associations.map(a => `${a.Properties.Namespace}/${a.Properties.ServiceAccount}`).sort())
      .toEqual(['dagster/dagster-run', 'dagster/dagster-webserver', 'external-secrets/external-secrets', 'feast/feast',
        'feast/feast-materializer', 'mlflow/mlflow']);
  });
});

describe('External Secrets', () => {
  const { template, stack } = dev;

  test('a component added to the stack gets its namespace, served by a secret store of its own, with one call', () => {
    const stack = new MlopsStack(new App(), 'S');
    const manifest = addComponentNamespaces(stack.componentPlatform, 'TrainingNamespace', { training: 'training' });
    const plain = addComponentNamespaces(stack.componentPlatform, 'ScratchNamespace', { scratch: 'scratch' }, { secrets: false });
    const objects = KubernetesManifests.fromStack(stack);
    const stores = objects.filter(o => o.object.kind === 'ClusterSecretStore').map(o => o.object);
    expect(stores.map(s => [s.metadata.name, s.spec.conditions]).sort()).toEqual(['dagster', 'feast', 'mlflow', 'training']
      .map(ns => [namespaceSecretStore(ns), [{ namespaces: [ns] }]]));
    const roleArn = (ns: string) => `\${${stack.getLogicalId((stack.externalSecrets.roleFor(ns) as iam.Role).node.defaultChild as any)}.Arn}`;
    for (const store of stores) expect(store.spec.provider.aws.role).toEqual(roleArn(store.spec.conditions[0].namespaces[0]));
    expect(new Set(stores.map(s => JSON.stringify(s.spec.provider.aws.role))).size).toBe(stores.length);
    const training = objects.filter(o => o.object.metadata.namespace === 'training' || o.object.metadata.name === 'training').map(o => o.object);
    expect(training.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Namespace/training', 'NetworkPolicy/default-deny-ingress']);
    expect(training.find(o => o.kind === 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // Without secrets nothing else makes its pods wait for the node pool, so the namespace does.
    const dependsOn = (m: Construct) => Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(m.node.defaultChild as CfnElement)].DependsOn ?? [];
    expect(dependsOn(plain)).toContain(stack.getLogicalId(stack.platform.nodes.node.defaultChild as CfnElement));
    expect(dependsOn(manifest)).not.toContain(stack.getLogicalId(stack.platform.nodes.node.defaultChild as CfnElement));
  });

  test('a store that serves no namespace fails synth', () => {
    const stack = new MlopsStack(new App(), 'S');
    const secrets = new ExternalSecrets(stack, 'Secrets', { cluster: stack.cluster, namespace: 'other-secrets' });
    expect(secrets.node.validate()).toEqual([expect.stringMatching(/^S\/Secrets: invalid prop 'namespaces' = \[\]; allowed: at least one namespace/)]);
    secrets.serveNamespace('team');
    expect(secrets.node.validate()).toEqual([]);
  });

  test('installs the pinned chart with its CRDs and hardened pods', () => {
    const chart = template.findResources('Custom::AWSCDK-EKS-HelmChart');
    const [props] = Object.values(chart).map((r: any) => r.Properties);
    expect(props).toMatchObject({
      Chart: EXTERNAL_SECRETS_CHART.chart,
      Repository: EXTERNAL_SECRETS_CHART.repository,
      Version: EXTERNAL_SECRETS_CHART.version,
      Namespace: 'external-secrets',
    });
    const values = JSON.parse(props.Values);
    expect(values.installCRDs).toBe(true);
    for (const part of [values, values.webhook, values.certController]) {
      expect(part.securityContext).toMatchObject({
        enabled: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(part.podSecurityContext).toMatchObject({ enabled: true, runAsNonRoot: true });
    }
  });

  test('authenticates with EKS Pod Identity for exactly its ServiceAccount', () => {
    const values = JSON.parse((Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'))[0] as any).Properties.Values);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      Namespace: 'external-secrets', ServiceAccount: values.serviceAccount.name,
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { StringEquals: Match.objectLike({
          'aws:RequestTag/kubernetes-namespace': 'external-secrets',
          'aws:RequestTag/kubernetes-service-account': 'external-secrets',
          'aws:RequestTag/eks-cluster-arn': Match.anyValue(),
        }) },
      })] },
    });
  });

  test('applies each ClusterSecretStore only after the chart installed its CRDs', () => {
    const chartId = Object.keys(template.findResources('Custom::AWSCDK-EKS-HelmChart'))[0];
    const stores = KubernetesManifests.fromStack(dev.stack).filter(o => o.object.kind === 'ClusterSecretStore');
    expect(stores).toHaveLength(3);
    for (const store of stores) expect(template.toJSON().Resources[store.logicalId].DependsOn).toContain(chartId);
  });

  test('grantRead lets the role of that namespace\'s store read that secret, and no other role', () => {
    const stack = new MlopsStack(new App(), 'Grant');
    const secret = new secretsmanager.Secret(stack, 'DbSecret');
    stack.externalSecrets.grantRead(secret, 'team');
    const template = Template.fromStack(stack);
    const grants = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p.Properties.PolicyDocument)
      .includes(JSON.stringify({ Ref: stack.getLogicalId(secret.node.defaultChild as any) })));
    expect(grants.map((p: any) => p.Properties.Roles)).toEqual([[{ Ref: stack.getLogicalId((stack.externalSecrets.roleFor('team') as iam.Role).node.defaultChild as any) }]]);
    expect((grants[0] as any).Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    }));
  });

  test('the operator itself may only assume the stores\' roles, and only it may assume them', () => {
    const operator = stack.getLogicalId(stack.externalSecrets.identity.role.node.defaultChild as any);
    const documents = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === operator)).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const storeRoles = ['dagster', 'feast', 'mlflow'].map(ns => stack.resolve((stack.externalSecrets.roleFor(ns) as iam.Role).roleArn));
    expect(documents).toEqual([{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: expect.anything() }]);
    expect(new Set([documents[0].Resource].flat().map((r: any) => JSON.stringify(r)))).toEqual(new Set(storeRoles.map(r => JSON.stringify(r))));
    for (const ns of ['dagster', 'feast', 'mlflow']) {
      const role = template.toJSON().Resources[stack.getLogicalId((stack.externalSecrets.roleFor(ns) as iam.Role).node.defaultChild as any)];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
        Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { AWS: { 'Fn::GetAtt': [operator, 'Arn'] } },
      }]);
    }
  });

  test('every ExternalSecret of the stack reads through its namespace\'s store, whose role may read each secret it names', () => {
    const objects = KubernetesManifests.fromStack(stack).map(o => o.object);
    const externalSecrets = objects.filter(o => o.kind === 'ExternalSecret');
    expect(externalSecrets.length).toBeGreaterThanOrEqual(5);
    for (const es of externalSecrets) {
      const ns = es.metadata.namespace;
      expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: namespaceSecretStore(ns) });
      const role = stack.getLogicalId((stack.externalSecrets.roleFor(ns) as iam.Role).node.defaultChild as any);
      const readable = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
        .flatMap((st: any) => [st.Resource].flat().map((r: any) => r.Ref));
      const named = [...(es.spec.data ?? []).map((d: any) => d.remoteRef.key), ...(es.spec.dataFrom ?? []).map((d: any) => d.extract.key)];
      for (const key of named) expect(readable).toContain(/^\$\{Ref:([A-Za-z0-9]+)\}$/.exec(key)![1]);
    }
  });
});

test('podIdentity() gives a component its own role in its namespace', () => {
  const stack = new MlopsStack(new App(), 'Component');
  const identity = stack.podIdentity('TrainerIdentity', 'trainer', 'training');
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(identity.role.node.defaultChild as any);
  template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
    Namespace: 'training', ServiceAccount: 'trainer', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
  });
  expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toMatchObject({
    'aws:RequestTag/kubernetes-namespace': 'training', 'aws:RequestTag/kubernetes-service-account': 'trainer',
  });
});
