/**
 * The Host header values MLflow (>= 3.5) accepts. Its DNS-rebinding guard compares the header
 * exactly, port included, unless an entry has a wildcard (mlflow/server/security_utils.py), and a
 * configured list replaces the defaults (localhost and private IP ranges). So we list every name
 * an in-cluster client can use for the Service, with and without the port, plus the ingress host,
 * and nothing else: a request by pod IP or a foreign name is refused with 403. `/health` and
 * `/version` are exempt, so kubelet probes by pod IP still pass.
 *
 * It is passed as MLFLOW_SERVER_ALLOWED_HOSTS rather than `--allowed-hosts`: MLflow rejects the
 * flag next to `--gunicorn-opts`, but honours the variable with every server backend.
 */
export function allowedHosts(name: string, namespace: string, domain: string, port: number, ingressHost?: string): string[] {
  const names = [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.${domain}`];
  return [
    ...names.flatMap(n => [n, `${n}:${port}`]),
    // Browsers omit the default port; an ingress may forward the port it was reached on.
    ...(ingressHost ? [ingressHost, `${ingressHost}:443`, `${ingressHost}:80`] : []),
  ];
}
