import { StackProfile } from '../core/profile';

/** The sizing of an MLflow server, resolved from its props and profile (`MlflowServer.sizing`). */
export interface MlflowSizing {
  /** Pods of the Deployment. */
  readonly replicas: number;
  /** uvicorn workers per pod. */
  readonly workers: number;
  /** CPU request of the server container. */
  readonly cpu: string;
  /** Memory request and limit of the server container. */
  readonly memory: string;
}

/** MLflow's profile-dependent defaults (its database's are the platform's, `profileDefaults`). */
export const MLFLOW_DEFAULTS: Record<StackProfile, MlflowSizing> = {
  // One uvicorn worker of MLflow idles at about 300 MiB; memory is sized for the workers plus uploads.
  [StackProfile.DEVELOPMENT]: { replicas: 1, workers: 2, cpu: '250m', memory: '1Gi' },
  [StackProfile.PRODUCTION]: { replicas: 2, workers: 4, cpu: '1', memory: '3Gi' },
};
