/**
 * Finds secret values in synthesized output: templates, assembly metadata and Kubernetes
 * manifests. Secrets in this stack are generated in Secrets Manager and reach pods only through
 * External Secrets, so any of the following in a synthesized file is a leak.
 */
export interface SecretFinding {
  readonly file: string;
  readonly where: string;
  readonly why: string;
}

const TEXT_PATTERNS: [RegExp, string][] = [
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/, 'AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{36}\b/, 'GitHub token'],
  [/\bxox[baprs]-[A-Za-z0-9-]{10,}/, 'Slack token'],
];

/** Property names whose value is the secret itself (not its name, ARN or reference). */
const SECRET_KEYS = /^(password|passwd|masteruserpassword|authtoken|secretstring|secretaccesskey|secret_access_key|privatekey|private_key|apikey|api_key|token|clientsecret|client_secret)$/i;
/** Environment variable names that carry a secret. */
const SECRET_ENV = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY)$/i;

function isLiteral(value: unknown): value is string {
  // References ({Ref}, {Fn::...}), dynamic references and empty values are not secret values.
  return typeof value === 'string' && value.length > 0 && !value.startsWith('{{resolve:') && !/^\$\{[^}]+\}$/.test(value);
}

function walk(node: any, where: string, visit: (node: any, where: string) => void): void {
  visit(node, where);
  if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${where}[${i}]`, visit));
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`, visit);
}

/** Findings in one parsed JSON document (a template, or a Kubernetes object). */
export function scanDocument(file: string, doc: any): SecretFinding[] {
  const found: SecretFinding[] = [];
  walk(doc, '$', (node, where) => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (SECRET_KEYS.test(key) && isLiteral(value)) found.push({ file, where: `${where}.${key}`, why: `literal value for '${key}'` });
    }
    // A container env var that holds a secret must come from valueFrom.secretKeyRef.
    if (typeof node.name === 'string' && SECRET_ENV.test(node.name) && isLiteral(node.value)) {
      found.push({ file, where, why: `env var ${node.name} has a literal value` });
    }
    // Kubernetes Secrets are written by External Secrets in the cluster, never synthesized.
    if (node.kind === 'Secret' && node.apiVersion === 'v1' && (node.data || node.stringData)) {
      found.push({ file, where, why: 'a Kubernetes Secret with data in a manifest' });
    }
  });
  return found;
}

/** Findings in raw text (any synthesized file, including embedded manifests as strings). */
export function scanText(file: string, text: string): SecretFinding[] {
  return TEXT_PATTERNS.filter(([re]) => re.test(text)).map(([, why]) => ({ file, where: '(text)', why }));
}
