/**
 * Every pinned image and Helm chart of the stack, in one place, each with the upstream release it
 * matches. A bump is a one-line change here plus the contract test of that component.
 *
 * This file has no imports so that both the AWS layer (lib/) and the cdk8s constructs (constructs/)
 * can read it.
 */

/** A Helm chart pinned to one version. */
export interface PinnedChart {
  /** Chart name inside the repository. */
  readonly chart: string;
  /** Helm repository URL. */
  readonly repository: string;
  /** Chart version. */
  readonly version: string;
  /** Application release the chart version deploys. */
  readonly appVersion: string;
}

/**
 * External Secrets Operator. Chart versions track the operator release; v2.9.0 serves
 * `external-secrets.io/v1` (v1beta1 is no longer served), which is what our manifests use and what
 * the CRDs in ../shared/crds/external-secrets-v2.9.0 describe.
 */
export const EXTERNAL_SECRETS_CHART: PinnedChart = {
  chart: 'external-secrets',
  repository: 'https://charts.external-secrets.io',
  version: '2.9.0',
  appVersion: 'v2.9.0',
};

/** Kubernetes minor version the stack targets and validates its manifests against. */
export const KUBERNETES_VERSION = '1.35';
