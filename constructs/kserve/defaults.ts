import { StackProfile } from '../core/profile';

/** The sizing of an InferenceService's predictor, resolved from its props and profile (`InferenceService.sizing`). */
export interface ModelSizing {
  /** Pods the predictor keeps at least. */
  readonly minReplicas: number;
  /** Pods the autoscaler may run. */
  readonly maxReplicas: number;
  /** CPU request of the model container. */
  readonly cpu: string;
  /** CPU limit of the model container. */
  readonly cpuLimit: string;
  /** Memory request of the model container. */
  readonly memory: string;
  /** Memory limit of the model container. */
  readonly memoryLimit: string;
}

/**
 * KServe's profile-dependent defaults for one model. `maxReplicas` is a floor: a larger
 * `minReplicas` raises it. The CPU limit is never below the request (see `RUNTIME_CPU_LIMIT`).
 */
export const MODEL_DEFAULTS: Record<StackProfile, Omit<ModelSizing, 'cpuLimit'>> = {
  [StackProfile.DEVELOPMENT]: { minReplicas: 1, maxReplicas: 1, cpu: '100m', memory: '256Mi', memoryLimit: '512Mi' },
  [StackProfile.PRODUCTION]: { minReplicas: 2, maxReplicas: 4, cpu: '1', memory: '2Gi', memoryLimit: '2Gi' },
};

/** Days the stack keeps payload logs. */
export const PAYLOAD_LOG_RETENTION_DAYS = 90;
