import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { generatedPassword } from '../core/generated-secret';
import { stableIdentifier } from '../core/identifiers';

/**
 * What the feature server and clients may run: reads, nothing that writes or scans the keyspace
 * wholesale. Feast reads with HMGET in pipelines without MULTI, so no transaction commands.
 */
export const ONLINE_STORE_READER_ACCESS = 'on ~* -@all +@read -@dangerous +ping';
/** Materialization and `feast apply`: reads and writes (HSET, EXPIRE, DEL), but no FLUSHALL, KEYS or CONFIG. */
export const ONLINE_STORE_WRITER_ACCESS = 'on ~* -@all +@read +@write -@dangerous +ping';
/** ElastiCache requires a user named `default` in every group; this one is disabled. */
export const ONLINE_STORE_DEFAULT_ACCESS = 'off -@all';

/** Fixed, not derived from props: a secret's generated password would change with its username. */
export const ONLINE_STORE_USERNAMES = { reader: 'feast-reader', writer: 'feast-writer' };

/** A user of the online store and the Secrets Manager secret (`username`, `password`) it signs in with. */
export interface OnlineStoreUser {
  readonly username: string;
  readonly user: elasticache.CfnUser;
  readonly secret: secretsmanager.ISecret;
}

/** The online store's users: a reader (server, clients), a writer (materializer) and the disabled `default`. */
export interface OnlineStoreUsers {
  readonly reader: OnlineStoreUser;
  readonly writer: OnlineStoreUser;
  readonly group: elasticache.CfnUserGroup;
}

/**
 * ElastiCache RBAC users in a user group for the replication group. `defaultPassword` keeps the
 * former AUTH token's secret as the disabled default user's password, so no pod needs it.
 */
export function createOnlineStoreUsers(scope: Construct, id: string, key: kms.IKey, defaultPassword: secretsmanager.ISecret): OnlineStoreUsers {
  const user = (role: string, username: string, access: string, secret: secretsmanager.ISecret): OnlineStoreUser => ({
    username,
    secret,
    user: new elasticache.CfnUser(scope, `OnlineStore${role}User`, {
      // User IDs are unique per account and region, so they carry the stack's name.
      userId: stableIdentifier(scope, `${id}-${role}`, 40),
      userName: username,
      engine: 'valkey',
      accessString: access,
      // A dynamic reference: CloudFormation resolves it; the template holds only the secret's ARN.
      authenticationMode: { Type: 'password', Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()] },
    }),
  });
  const generated = (role: string, username: string) => generatedPassword(scope, `OnlineStore${role}Password`, {
    description: `Online store (ElastiCache) user ${username} of ${scope.node.path}`, encryptionKey: key, username,
  });
  const { reader: readerName, writer: writerName } = ONLINE_STORE_USERNAMES;
  const reader = user('Reader', readerName, ONLINE_STORE_READER_ACCESS, generated('Reader', readerName));
  const writer = user('Writer', writerName, ONLINE_STORE_WRITER_ACCESS, generated('Writer', writerName));
  const disabled = user('Default', 'default', ONLINE_STORE_DEFAULT_ACCESS, defaultPassword);
  const group = new elasticache.CfnUserGroup(scope, 'OnlineStoreUsers', {
    userGroupId: stableIdentifier(scope, `${id}-users`, 40),
    engine: 'valkey',
    userIds: [disabled.user.ref, reader.user.ref, writer.user.ref],
  });
  return { reader, writer, group };
}
