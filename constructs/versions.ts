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
 * the CRDs in test/fixtures/crds/external-secrets-v2.9.0 describe.
 */
export const EXTERNAL_SECRETS_CHART: PinnedChart = {
  chart: 'external-secrets',
  repository: 'https://charts.external-secrets.io',
  version: '2.9.0',
  appVersion: 'v2.9.0',
};

/** Kubernetes minor version the stack targets and validates its manifests against. */
export const KUBERNETES_VERSION = '1.35';

/** An image pinned to one tag, with the upstream release it is. */
export interface PinnedImage {
  /** Repository, e.g. `ghcr.io/mlflow/mlflow`. */
  readonly repository: string;
  /** Tag. */
  readonly tag: string;
  /** Upstream release the tag is (also the PyPI version the contract test runs). */
  readonly release: string;
}

/**
 * MLflow's official image, `-full` variant: the base image has neither the PostgreSQL driver nor
 * boto3 (mlflow/mlflow docker/README.md; `-full` exists from v3.9.0). The contract test runs
 * `mlflow==release` from PyPI with the same flags.
 */
export const MLFLOW_IMAGE: PinnedImage = {
  repository: 'ghcr.io/mlflow/mlflow',
  tag: 'v3.16.1-full',
  release: '3.16.1',
};

/** `repository:tag` of a pinned image. */
export function imageRef(image: PinnedImage): string {
  return `${image.repository}:${image.tag}`;
}

/**
 * Feast's feature server image (quay.io, not Docker Hub), built by Feast's release from
 * `feast[minimal]` on UBI 9 Python 3.12, running as UID 1001. The contract test runs
 * `feast==release` from PyPI with the extras of that set that our configuration uses.
 */
export const FEAST_IMAGE: PinnedImage = {
  repository: 'quay.io/feastdev/feature-server',
  tag: '0.67.0',
  release: '0.67.0',
};

/**
 * Valkey, the BSD-licensed fork of Redis 7.2.4 that ElastiCache also runs, for the in-cluster
 * online store. The flags the library passes are Redis 7.0's, which the contract test runs with
 * Debian's redis-server.
 */
export const VALKEY_IMAGE: PinnedImage = {
  repository: 'docker.io/valkey/valkey',
  tag: '8.1.4',
  release: '8.1.4',
};

/**
 * Dagster's image for the webserver and daemon (dagster, dagster-webserver, dagster-postgres,
 * dagster-k8s, dagster-aws among its packages). 1.13.27 with libraries 0.29.27 is the newest
 * release every part of which PyPI serves (dagster 1.13.29 has no dagster-webserver, dagster-k8s
 * or dagster-aws of its own yet); code-location images must carry the same release.
 */
export const DAGSTER_IMAGE: PinnedImage = {
  repository: 'docker.io/dagster/dagster-celery-k8s',
  tag: '1.13.27',
  release: '1.13.27',
};

/**
 * cert-manager, which issues the certificate of KServe's webhooks (KServe's resources chart emits
 * an Issuer and a Certificate). The source chart at tag v1.21.1 says `version: v0.0.0` (its release
 * tool writes the real one into the package), so the stack also pins every image tag to
 * `appVersion` explicitly; test/fixtures/README.md has the details.
 */
export const CERT_MANAGER_CHART: PinnedChart = {
  chart: 'cert-manager',
  repository: 'https://charts.jetstack.io',
  version: 'v1.21.1',
  appVersion: 'v1.21.1',
};

/** KServe's charts are OCI artifacts, one repository per chart, all released together. */
const KSERVE_RELEASE = 'v0.20.0';

/** KServe's CRDs (InferenceService, ServingRuntime, ClusterStorageContainer, ...). */
export const KSERVE_CRD_CHART: PinnedChart = {
  chart: 'kserve-crd',
  repository: 'oci://ghcr.io/kserve/charts/kserve-crd',
  version: KSERVE_RELEASE,
  appVersion: KSERVE_RELEASE,
};

/** KServe's controller, webhooks and `inferenceservice-config` (the chart was named `kserve` up to v0.16). */
export const KSERVE_RESOURCES_CHART: PinnedChart = {
  chart: 'kserve-resources',
  repository: 'oci://ghcr.io/kserve/charts/kserve-resources',
  version: KSERVE_RELEASE,
  appVersion: KSERVE_RELEASE,
};

/** KServe's ClusterServingRuntimes (rendered only with `kserve.servingruntime.enabled`). */
export const KSERVE_RUNTIMES_CHART: PinnedChart = {
  chart: 'kserve-runtime-configs',
  repository: 'oci://ghcr.io/kserve/charts/kserve-runtime-configs',
  version: KSERVE_RELEASE,
  appVersion: KSERVE_RELEASE,
};

/**
 * The KServe Python release the sklearn, xgboost, lightgbm and huggingface runtimes of
 * KSERVE_RUNTIMES_CHART run (their images are tagged with it); the contract test serves models
 * with `kserve==release` and downloads them with `kserve-storage==release` from PyPI.
 */
export const KSERVE_PYTHON: PinnedImage = {
  repository: 'docker.io/kserve/sklearnserver',
  tag: KSERVE_RELEASE,
  release: '0.20.0',
};
