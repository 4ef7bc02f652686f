import { stringify } from 'yaml';

/** Environment variable the online store password reaches Feast in; Feast expands `${...}` in feature_store.yaml. */
export const REDIS_PASSWORD_ENV = 'FEAST_REDIS_PASSWORD';
/** Environment variable of the online store's ACL user name, when it has one. */
export const REDIS_USERNAME_ENV = 'FEAST_REDIS_USERNAME';

/** What `featureStoreYaml` renders. */
export interface FeatureStoreYamlOptions {
  readonly project: string;
  readonly provider: string;
  readonly registryPath: string;
  readonly registryCacheTtlSeconds: number;
  readonly connectionString: string;
  readonly redisType: string;
  readonly tls: boolean;
  readonly keyTtlSeconds?: number;
  /** Authenticate as the ACL user in FEAST_REDIS_USERNAME (the server and the materializer may be different users). */
  readonly withUsername?: boolean;
}

/**
 * Feast's `feature_store.yaml`. The password is a `${FEAST_REDIS_PASSWORD}` reference that Feast
 * expands from the environment when it loads the file, so the file holds no secret and can live in
 * a ConfigMap (and in a client's repository).
 */
export function featureStoreYaml(o: FeatureStoreYamlOptions): string {
  return stringify({
    project: o.project,
    provider: o.provider,
    registry: {
      registry_type: 'file',
      path: o.registryPath,
      cache_ttl_seconds: o.registryCacheTtlSeconds,
    },
    online_store: {
      type: 'redis',
      redis_type: o.redisType,
      connection_string: [o.connectionString, `ssl=${o.tls}`,
        ...(o.withUsername ? [`username=\${${REDIS_USERNAME_ENV}}`] : []), `password=\${${REDIS_PASSWORD_ENV}}`].join(','),
      ...(o.keyTtlSeconds !== undefined ? { key_ttl_seconds: o.keyTtlSeconds } : {}),
    },
    offline_store: { type: 'dask' },
    // Pinned: it decides how entity keys are laid out in Redis, so a change of Feast's default must
    // not orphan the data already materialized.
    entity_key_serialization_version: 3,
  }, { lineWidth: 0 });
}
