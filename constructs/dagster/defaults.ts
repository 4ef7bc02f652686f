import { StackProfile } from '../core/profile';

/** The sizing of a Dagster deployment, resolved from its props and profile (`Dagster.sizing`). */
export interface DagsterSizing {
  /** Pods of the webserver Deployment. */
  readonly webserverReplicas: number;
  /** Runs the queue lets run at once. */
  readonly maxConcurrentRuns: number;
  /** CPU request (and limit) of a run pod. */
  readonly runCpu: string;
  /** Memory request of a run pod. */
  readonly runMemoryRequest: string;
  /** Memory limit of a run pod. */
  readonly runMemory: string;
}

/** Dagster's profile-dependent defaults (its database's are the platform's, `profileDefaults`). */
export const DAGSTER_DEFAULTS: Record<StackProfile, DagsterSizing> = {
  // A run pod reserves less than its limit in DEVELOPMENT, where runs are small and rare.
  [StackProfile.DEVELOPMENT]: { webserverReplicas: 1, maxConcurrentRuns: 1, runCpu: '250m', runMemoryRequest: '384Mi', runMemory: '512Mi' },
  [StackProfile.PRODUCTION]: { webserverReplicas: 2, maxConcurrentRuns: 10, runCpu: '1', runMemoryRequest: '2Gi', runMemory: '2Gi' },
};

/**
 * The webserver's resources in every profile. Measured by the contract test: about 165 MiB
 * resident after loading a location and a run; the limit leaves room for large GraphQL responses.
 */
export const DAGSTER_WEBSERVER = { cpu: '100m', memory: '256Mi', memoryLimit: '384Mi' } as const;
/** The daemon's resources in every profile. Measured by the contract test: about 140 MiB resident while dequeuing and launching. */
export const DAGSTER_DAEMON = { cpu: '100m', memory: '256Mi', memoryLimit: '384Mi' } as const;
