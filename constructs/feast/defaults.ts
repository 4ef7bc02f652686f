import { StackProfile } from '../core/profile';

/** The sizing of a Feast feature store, resolved from its props and profile (`FeastFeatureStore.sizing`). */
export interface FeastSizing {
  /** Feature-server pods the autoscaler starts from. */
  readonly replicas: number;
  /** Most feature-server pods the autoscaler runs. */
  readonly maxReplicas: number;
  /** Gunicorn workers per feature-server pod. */
  readonly workers: number;
  /** CPU request of the feature server. */
  readonly cpu: string;
  /** Memory request and limit of the feature server. */
  readonly memory: string;
  /** CPU request of a materialization run. */
  readonly jobCpu: string;
  /** Memory request of a materialization run. */
  readonly jobMemoryRequest: string;
  /** Memory limit of a materialization run. */
  readonly jobMemory: string;
}

/** The online store ElastiCache runs for the stack's `FeastOnAws`, by profile. */
export interface FeastOnlineStoreSizing {
  /** ElastiCache node type. */
  readonly nodeType: string;
  /** Nodes: a primary, and replicas in other zones with automatic failover. */
  readonly nodes: number;
  /** Days of daily snapshots kept. */
  readonly snapshotDays: number;
}

/** Feast's profile-dependent defaults, Kubernetes side (`server`) and AWS side (`onlineStore`). */
export const FEAST_DEFAULTS: Record<StackProfile, { readonly server: FeastSizing; readonly onlineStore: FeastOnlineStoreSizing }> = {
  [StackProfile.DEVELOPMENT]: {
    // Measured by the contract test: the server's two processes (master and one worker) hold about
    // 410 MiB of RSS together, shared pages counted twice; materializing 100,000 rows peaks near 575 MiB.
    server: { replicas: 1, maxReplicas: 2, workers: 1, cpu: '100m', memory: '512Mi', jobCpu: '250m', jobMemoryRequest: '640Mi', jobMemory: '768Mi' },
    // The smallest Graviton node (0.5 GiB): about USD 9.34 a month on demand in us-east-1 (docs/components/feast.md).
    onlineStore: { nodeType: 'cache.t4g.micro', nodes: 1, snapshotDays: 1 },
  },
  [StackProfile.PRODUCTION]: {
    server: { replicas: 2, maxReplicas: 6, workers: 2, cpu: '500m', memory: '1Gi', jobCpu: '1', jobMemoryRequest: '4Gi', jobMemory: '4Gi' },
    // Non-burstable, 6.38 GiB; a replica in a second zone takes over automatically.
    onlineStore: { nodeType: 'cache.m7g.large', nodes: 2, snapshotDays: 7 },
  },
};
