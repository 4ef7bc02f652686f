import { StackProfile } from '../core/profile';

/** Requests (and memory limit) of one pod, by profile. */
interface Sizing {
  readonly cpu: string;
  readonly memory: string;
  readonly memoryLimit?: string;
}

/**
 * Every default of Evidently's drift checks, on both sides: `DriftMonitor` (the CronJob), the
 * stack's `EvidentlyOnAws` (alarms, retention) and the drift job's own CLI (jobs/drift), which a
 * test holds to the same values.
 */
export const DRIFT_CHECK_DEFAULTS = {
  /** Every two minutes, so a shift is alarmed within five (see `detectionBudgetSeconds`). */
  schedule: '*/2 * * * *',
  windowMinutes: 15,
  driftShare: 0.5,
  deadlineSeconds: 90,
  /** One 60 s alarm period: the alerting part of the detection budget. */
  alertingSeconds: 60,
  detectionBudgetSeconds: 300,
  metricNamespace: 'MLOps/Drift',
  namespace: 'monitoring',
  reportRetentionDays: 90,
  /**
   * The run holds the reference and the window in memory: 465 MiB at its peak for 100,000
   * reference rows x 20 columns against 10,000 current rows (npm run bench:drift).
   */
  resources: {
    [StackProfile.DEVELOPMENT]: { cpu: '250m', memory: '512Mi', memoryLimit: '1Gi' },
    [StackProfile.PRODUCTION]: { cpu: '500m', memory: '2Gi' },
  } as Record<StackProfile, Sizing>,
} as const;
