/**
 * One targeted assertion per one-line change that would break a deploy (or a running stack) while
 * every other test still passed. Each names what the change would break; none relies on a snapshot.
 */
import { KubernetesManifests, MIGRATE_SCRIPT, StackProfile } from '../lib';
import { PROFILES, synthReference } from './support/synth';

const synths = Object.fromEntries(PROFILES.map(p => [p, synthReference(p)]));

function resources(profile: StackProfile, type: string): [string, any][] {
  return Object.entries(synths[profile].template.toJSON().Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

describe.each(PROFILES)('%s', profile => {
  const byId = synths[profile].template.toJSON().Resources as Record<string, any>;
  const objects = KubernetesManifests.fromStack(synths[profile].stack).map(o => o.object);

  test('each pod-identity role trusts exactly the cluster, namespace and ServiceAccount of its association', () => {
    // A trust condition that compares the cluster-ARN tag with anything but the ARN of the
    // association's own cluster (its name, say) never matches: every pod would lose its AWS
    // credentials. The name alone would not do either: it is unique per region, not per account.
    const associations = resources(profile, 'AWS::EKS::PodIdentityAssociation');
    expect(associations.length).toBeGreaterThanOrEqual(2);
    for (const [, association] of associations) {
      const { ClusterName, Namespace, ServiceAccount, RoleArn } = association.Properties;
      const role = byId[RoleArn['Fn::GetAtt'][0]];
      const [statement] = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(statement.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
      expect(Object.keys(statement.Condition.StringEquals)).not.toContain('aws:RequestTag/eks-cluster-name');
      expect(statement.Condition.StringEquals).toMatchObject({
        'aws:RequestTag/eks-cluster-arn': { 'Fn::GetAtt': [ClusterName.Ref, 'Arn'] },
        'aws:RequestTag/kubernetes-namespace': Namespace,
        'aws:RequestTag/kubernetes-service-account': ServiceAccount,
      });
    }
  });

  test('the External Secrets chart installs only after its pod-identity association exists', () => {
    // Without the dependency the operator can start before EKS knows its role, and its first
    // reconcile of every ExternalSecret fails with no credentials.
    const [[, chart]] = resources(profile, 'Custom::AWSCDK-EKS-HelmChart');
    const serviceAccount = JSON.parse(chart.Properties.Values).serviceAccount.name;
    const [[associationId]] = resources(profile, 'AWS::EKS::PodIdentityAssociation')
      .filter(([, a]) => a.Properties.Namespace === chart.Properties.Namespace && a.Properties.ServiceAccount === serviceAccount);
    expect(chart.DependsOn).toContain(associationId);
  });

  test('every bucket refuses plain HTTP and TLS older than 1.2', () => {
    const buckets = resources(profile, 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(3);
    for (const [bucketId] of buckets) {
      const policies = resources(profile, 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket?.Ref === bucketId);
      expect({ bucketId, policies: policies.length }).toEqual({ bucketId, policies: 1 });
      const denies = policies[0][1].Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny' && s.Action === 's3:*');
      const covers = (s: any) => JSON.stringify(s.Resource).includes(`"${bucketId}"`);
      expect(denies.some((s: any) => covers(s) && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
      expect(denies.some((s: any) => covers(s) && s.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2)).toBe(true);
    }
  });

  test('subnets carry the tags the load-balancer controller picks them by', () => {
    // Without them a Service or Ingress of type LoadBalancer never gets an address. aws-eks-v2's
    // Cluster adds them to the subnets of its VPC; this pins that it still does.
    const subnets = resources(profile, 'AWS::EC2::Subnet').map(([, s]) => s.Properties);
    const tag = (s: any, key: string) => s.Tags.find((t: any) => t.Key === key)?.Value;
    const publicSubnets = subnets.filter(s => s.MapPublicIpOnLaunch === true);
    const privateSubnets = subnets.filter(s => s.MapPublicIpOnLaunch === false);
    expect(publicSubnets.length).toBeGreaterThanOrEqual(2);
    expect(privateSubnets.length).toBeGreaterThanOrEqual(2);
    expect(publicSubnets.map(s => tag(s, 'kubernetes.io/role/elb'))).toEqual(publicSubnets.map(() => '1'));
    expect(privateSubnets.map(s => tag(s, 'kubernetes.io/role/internal-elb'))).toEqual(privateSubnets.map(() => '1'));
  });

  test('only the Kubernetes API clients of the stack\'s charts mount a token: Dagster\'s webserver and daemon', () => {
    // A mounted token hands the pod's API rights to anyone who gets a shell: only pods that call the
    // API get one (Dagster's run launcher), and the run-launcher Role limits what it can do.
    const accounts = objects.filter(o => o.kind === 'ServiceAccount');
    const deployments = objects.filter(o => o.kind === 'Deployment');
    expect(accounts.length).toBeGreaterThanOrEqual(1);
    expect(accounts.map(a => a.automountServiceAccountToken)).toEqual(accounts.map(() => false));
    const mounting = deployments.filter(d => d.spec.template.spec.automountServiceAccountToken !== false).map(d => d.metadata.name);
    expect(mounting.sort()).toEqual(['dagster-daemon', 'dagster-webserver']);
  });

  test('every ExternalSecret owns its Secret and keeps it if the ExternalSecret goes', () => {
    // Retain: an ExternalSecret deleted or failing must not delete the Secret running pods use.
    const secrets = objects.filter(o => o.kind === 'ExternalSecret');
    expect(secrets.length).toBeGreaterThanOrEqual(1);
    for (const secret of secrets) {
      expect(secret.spec.target).toMatchObject({ creationPolicy: 'Owner', deletionPolicy: 'Retain' });
    }
  });
});

test('the MLflow migration runs inside the advisory lock', () => {
  // Outside the lock, replicas that start together run `mlflow db upgrade` concurrently and the
  // second one fails on a half-migrated schema.
  const lines = MIGRATE_SCRIPT.split('\n');
  const block = lines.findIndex(l => /^with engine\.connect\(\) as lock:$/.test(l));
  const lock = lines.findIndex(l => l.includes('pg_advisory_lock('));
  const upgrade = lines.findIndex(l => l.includes('commands.main(args=["upgrade"'));
  const admin = lines.findIndex(l => l.includes('bootstrap_admin_user()'));
  expect(block).toBeGreaterThanOrEqual(0);
  expect(block < lock && lock < upgrade && upgrade < admin).toBe(true);
  // Every line from the lock to the admin bootstrap is indented into the `with` block.
  expect(lines.slice(block + 1, admin + 1).every(l => /^ {4}/.test(l))).toBe(true);
  expect(lines.slice(admin + 1).every(l => !/^ /.test(l))).toBe(true);
});
