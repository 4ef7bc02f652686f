// The Pod Identity roles of a synthesized stack, as the contract tests give them to the emulator:
// per ServiceAccount (`<namespace>/<name>`), the policy documents of the role EKS would hand its
// pods, with every intrinsic resolved to the local names (test/contract/identity.py makes an IAM
// user of each, and the emulator evaluates every request against exactly those statements).
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { KubernetesManifests } from '../../lib/core/manifests';
import type { MlopsStack } from '../../lib';
import { CONTRACT } from '../../test/contract/endpoints';

export const CONTRACT_ACCOUNT = '123456789012';

type Json = any;

/** Documents by `<namespace>/<serviceAccount>`. */
export type PodPolicies = Record<string, Json[]>;

/**
 * The policies of every Pod Identity association of `stack`. `buckets` names the local bucket each
 * of the stack's buckets stands for; a policy naming anything else unresolvable fails the render,
 * so a new grant cannot slip past the emulator unevaluated.
 */
export function podPolicies(stack: Stack, buckets: Map<s3.IBucket, string>, region: string): PodPolicies {
  const { resources, resolve } = contractResolver(stack, buckets, region);
  const out: PodPolicies = {};
  for (const [id, association] of Object.entries(resources)) {
    if (association.Type !== 'AWS::EKS::PodIdentityAssociation') continue;
    const { Namespace: namespace, ServiceAccount: serviceAccount, RoleArn: roleArn } = association.Properties;
    const role = roleArn['Fn::GetAtt']?.[0];
    if (!role || resources[role]?.Type !== 'AWS::IAM::Role') throw new Error(`identities.ts: ${id}: its role is not a role of the stack`);
    out[`${namespace}/${serviceAccount}`] = roleDocuments(resources, role, resolve);
  }
  return out;
}

/** The ARN a role of the stack has in the emulator's account. */
export function contractRoleArn(logicalId: string): string {
  return `arn:aws:iam::${CONTRACT_ACCOUNT}:role/${logicalId}`;
}

type Resolve = (value: Json, where: string) => Json;

/** The template of `stack` and a function resolving its intrinsics to the local names. */
function contractResolver(stack: Stack, buckets: Map<s3.IBucket, string>, region: string) {
  const template = Template.fromStack(stack).toJSON();
  const resources: Record<string, Json> = template.Resources;
  const refs: Record<string, string> = { 'AWS::Region': region, 'AWS::AccountId': CONTRACT_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
  const arns: Record<string, string> = {};
  for (const [bucket, name] of buckets) {
    const id = stack.getLogicalId(bucket.node.defaultChild as any);
    refs[id] = name;
    arns[id] = `arn:aws:s3:::${name}`;
  }
  // Keys stand for themselves: S3 in the emulator does not call KMS for these buckets, and the
  // statements that name a key are the ones the emulator cannot evaluate (kms:ViaService).
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::KMS::Key') arns[id] = `arn:aws:kms:${region}:${CONTRACT_ACCOUNT}:key/${id}`;
    if (r.Type === 'AWS::IAM::Role') arns[id] = contractRoleArn(id);
    if (['AWS::SecretsManager::Secret', 'AWS::SecretsManager::SecretTargetAttachment'].includes(r.Type)) refs[id] = contractSecretArn(region, id);
  }
  const resolve: Resolve = (value, where) => {
    if (Array.isArray(value)) return value.map(v => resolve(v, where));
    if (value === null || typeof value !== 'object') return value;
    if ('Ref' in value) return known(refs[value.Ref], value, where);
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = value['Fn::GetAtt'];
      return known(attribute === 'Arn' ? arns[id] : undefined, value, where);
    }
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'];
      return parts.map((p: Json) => resolve(p, where)).join(separator);
    }
    const intrinsic = Object.keys(value).find(k => k.startsWith('Fn::'));
    if (intrinsic) throw new Error(`identities.ts: ${where}: ${intrinsic} is not resolved here`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, where)]));
  };
  // Manifests name the same resources with markers (`${Ref:Id}`, `${Id.Arn}`).
  const resolveMarkers = (json: string, where: string): string => json.replace(/\$\{(Ref:([A-Za-z0-9:]+)|([A-Za-z0-9]+)\.Arn)\}/g,
    (marker, _all, ref, arn) => known(ref !== undefined ? refs[ref] : arns[arn], marker, where));
  return { resources, resolve, resolveMarkers };
}

/**
 * A secret's ARN as the emulator's IAM sees it in policies: the local ARN of a secret named after
 * its logical id (the emulator appends its random suffix, which the test puts in).
 */
function contractSecretArn(region: string, logicalId: string): string {
  return `arn:aws:secretsmanager:${region}:${CONTRACT_ACCOUNT}:secret:${logicalId}`;
}

/** The inline and attached policy documents of role `role`, resolved. */
function roleDocuments(resources: Record<string, Json>, role: string, resolve: Resolve): Json[] {
  if (resources[role].Properties.ManagedPolicyArns?.length) throw new Error(`identities.ts: ${role}: managed policies are not evaluated here`);
  const documents = [
    ...(resources[role].Properties.Policies ?? []).map((p: Json) => p.PolicyDocument),
    ...Object.values(resources).filter(r => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: Json) => x.Ref === role))
      .map(r => r.Properties.PolicyDocument),
  ];
  return documents.map(d => resolve(d, role));
}

/**
 * The secret path of `stack` as the emulator runs it (test_secret_paths.py): the operator's
 * ServiceAccount, every role its stores assume (trust and policies), the ClusterSecretStores and
 * ExternalSecrets with their ARNs resolved, and every secret they name.
 */
export function secretPaths(stack: Stack, buckets: Map<s3.IBucket, string>, region: string, operator: string): Json {
  const { resources, resolve, resolveMarkers } = contractResolver(stack, buckets, region);
  const objects = JSON.parse(resolveMarkers(JSON.stringify(KubernetesManifests.fromStack(stack).map(o => o.object)
    .filter(o => ['ClusterSecretStore', 'ExternalSecret'].includes(o.kind))), 'secret path'));
  const stores = objects.filter((o: Json) => o.kind === 'ClusterSecretStore');
  const roles = Object.fromEntries(stores.map((store: Json) => {
    const arn = store.spec.provider.aws.role;
    const id = Object.keys(resources).find(r => contractRoleArn(r) === arn);
    if (!id) throw new Error(`identities.ts: ClusterSecretStore ${store.metadata.name}: ${arn} is no role of the stack`);
    return [arn, { trust: resolve(resources[id].Properties.AssumeRolePolicyDocument, id), policies: roleDocuments(resources, id, resolve) }];
  }));
  const externalSecrets = objects.filter((o: Json) => o.kind === 'ExternalSecret');
  const secrets = [...new Set(externalSecrets.flatMap((es: Json) => [
    ...(es.spec.data ?? []).map((d: Json) => d.remoteRef.key), ...(es.spec.dataFrom ?? []).map((d: Json) => d.extract.key)]))].sort();
  const [namespace, serviceAccount] = operator.split('/');
  const association = Object.values(resources).find(r => r.Type === 'AWS::EKS::PodIdentityAssociation'
    && r.Properties.Namespace === namespace && r.Properties.ServiceAccount === serviceAccount);
  if (!association) throw new Error(`identities.ts: ${operator} has no Pod Identity association`);
  return { operator, operatorRole: contractRoleArn(association.Properties.RoleArn['Fn::GetAtt'][0]), roles, stores, externalSecrets, secrets };
}

function known(value: string | undefined, intrinsic: Json, where: string): string {
  if (value === undefined) throw new Error(`identities.ts: ${where}: ${JSON.stringify(intrinsic)} names no local resource`);
  return value;
}

/** One map of several stacks' identities; a ServiceAccount two stacks give different policies fails. */
export function mergePodPolicies(...maps: PodPolicies[]): PodPolicies {
  const out: PodPolicies = {};
  for (const map of maps) {
    for (const [account, documents] of Object.entries(map)) {
      if (out[account] && JSON.stringify(out[account]) !== JSON.stringify(documents)) {
        throw new Error(`identities.ts: ${account} has different policies in two of the rendered stacks`);
      }
      out[account] = documents;
    }
  }
  return out;
}

/** The local bucket each data bucket of a reference stack stands for in the contract tests. */
export function contractBuckets(s: MlopsStack): Map<s3.IBucket, string> {
  return new Map<s3.IBucket, string>([
    [s.mlflow.artifactBucket, CONTRACT.mlflow.artifactsDestination.slice('s3://'.length).split('/')[0]],
    [s.feast.bucket, CONTRACT.feast.bucket],
    [s.dagster.computeLogBucket, CONTRACT.dagster.bucket],
    [s.kserve.payloadLogBucket, CONTRACT.kserve.payloadBucket],
    [s.evidently.bucket, CONTRACT.drift.reportsBucket],
  ]);
}

/** `json` (manifests with `${Ref:Id}` markers) with the stack's buckets and region replaced by the local ones. */
export function withContractNames(s: MlopsStack, json: string): string {
  let out = json.split('${Ref:AWS::Region}').join(CONTRACT.awsRegion);
  for (const [bucket, name] of contractBuckets(s)) out = out.split(`\${Ref:${s.getLogicalId(bucket.node.defaultChild as any)}}`).join(name);
  return out;
}
