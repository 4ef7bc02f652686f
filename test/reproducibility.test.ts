import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DvcRemote, StackProfile } from '../lib';
import { synthReference } from './support/synth';

// Can a training run be reproduced six months later? It needs its data (the DVC remote), its
// recorded run, parameters and model artifacts (MLflow's database and artifact bucket), and the keys
// and credentials that open them, all still there after a `cdk destroy` and routine churn. The
// contract test (test/contract/test_dvc.py) shows DVC getting an old version back; this shows the
// template keeps what that needs.

/** The window the README promises: noncurrent object versions (after `dvc gc -c` or an overwrite). */
const NONCURRENT_WINDOW_DAYS = 90;

describe.each([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION])('%s reference stack', profile => {
  const { stack, template } = synthReference(profile);
  const resources = template.toJSON().Resources as Record<string, any>;
  const id = (construct: any) => stack.getLogicalId(construct.node.defaultChild);

  test('the data, the artifacts and their keys outlive a cdk destroy and a replacement', () => {
    const kept = {
      'DVC remote bucket': id(stack.dvc.bucket),
      'DVC remote key': id(stack.dvc.encryptionKey),
      'MLflow artifact bucket': id(stack.mlflow.artifactBucket),
      'MLflow key (artifacts, credentials)': id(stack.mlflow.artifactKey),
    };
    for (const [what, logicalId] of Object.entries(kept)) {
      expect({ what, deletion: resources[logicalId].DeletionPolicy, replace: resources[logicalId].UpdateReplacePolicy })
        .toEqual({ what, deletion: 'Retain', replace: 'Retain' });
    }
  });

  test('the runs and the registry survive: the database is snapshotted, and the secrets to open it are kept', () => {
    const db = resources[id(stack.mlflow.database)];
    expect([db.DeletionPolicy, db.UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
    // Point-in-time recovery window by profile: a day to undo a mistake in DEVELOPMENT, two weeks in PRODUCTION.
    expect(db.Properties.BackupRetentionPeriod).toBe(profile === StackProfile.PRODUCTION ? 14 : 1);
    const secrets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const [logicalId, secret] of secrets) expect({ logicalId, deletion: secret.DeletionPolicy }).toEqual({ logicalId, deletion: 'Retain' });
  });

  test(`versions replaced or garbage-collected stay at least ${NONCURRENT_WINDOW_DAYS} days; current data and artifacts never expire`, () => {
    const rules = (logicalId: string) => resources[logicalId].Properties.LifecycleConfiguration?.Rules ?? [];
    for (const logicalId of [id(stack.dvc.bucket), id(stack.mlflow.artifactBucket)]) {
      expect(resources[logicalId].Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      for (const rule of rules(logicalId)) {
        expect(rule.ExpirationInDays).toBeUndefined();
        if (rule.NoncurrentVersionExpiration) {
          expect(rule.NoncurrentVersionExpiration.NoncurrentDays).toBeGreaterThanOrEqual(NONCURRENT_WINDOW_DAYS);
        }
      }
    }
    // The DVC remote's window is exactly the documented one; MLflow's artifacts keep every version.
    expect(rules(id(stack.dvc.bucket)).map((r: any) => r.NoncurrentVersionExpiration?.NoncurrentDays).filter(Boolean)).toEqual([NONCURRENT_WINDOW_DAYS]);
    expect(rules(id(stack.mlflow.artifactBucket)).some((r: any) => r.NoncurrentVersionExpiration)).toBe(false);
  });
});

test('with DVC cloud versioning, no noncurrent version (the dataset history) ever expires', () => {
  const stack = new Stack(new App(), 'S');
  const remote = new DvcRemote(stack, 'Remote', { versionAware: true });
  const bucket = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(remote.bucket.node.defaultChild as any)];
  expect((bucket.Properties.LifecycleConfiguration?.Rules ?? []).filter((r: any) => r.NoncurrentVersionExpiration)).toEqual([]);
});
