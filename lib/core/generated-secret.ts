import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** What `generatedPassword` stores beside the password. */
export interface GeneratedPasswordOptions {
  readonly description: string;
  readonly encryptionKey: kms.IKey;
  /** @default 64 */
  readonly length?: number;
  /** Stored as `username` beside `password`. @default - none */
  readonly username?: string;
}

/**
 * A retained Secrets Manager secret `{"password": ...}` (and `username`, if given) generated at
 * deploy time from letters and digits only: safe in ElastiCache (which refuses / " @), in
 * comma-separated connection strings and in URLs.
 */
export function generatedPassword(scope: Construct, id: string, o: GeneratedPasswordOptions): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description: o.description,
    generateSecretString: {
      secretStringTemplate: o.username !== undefined ? JSON.stringify({ username: o.username }) : '{}',
      generateStringKey: 'password', passwordLength: o.length ?? 64, excludePunctuation: true,
    },
    encryptionKey: o.encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
