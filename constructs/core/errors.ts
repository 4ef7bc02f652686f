import { IConstruct } from 'constructs';

/**
 * Thrown for a prop that cannot work. The message names the construct (its path), the prop, what
 * was given and what is allowed, so the user can fix it without reading our source.
 *
 * Not part of the jsii API (a subclass of a JavaScript built-in has no equivalent in Python); the
 * message is the contract in every language.
 * @internal
 */
export class InvalidPropError extends Error {
  /** The construct path the message names. */
  public readonly where: string;
  /** The prop, as the user of `where` wrote it. */
  public readonly prop: string;
  /** The value given. */
  public readonly given: unknown;
  /** What is allowed. */
  public readonly allowed: string;

  constructor(scope: IConstruct | string, prop: string, given: unknown, allowed: string) {
    const where = typeof scope === 'string' ? scope : scope.node.path;
    super(printable(`${where}: invalid prop '${prop}' = ${JSON.stringify(given)}; ${allowed}`));
    this.name = 'InvalidPropError';
    this.where = where;
    this.prop = prop;
    this.given = given;
    this.allowed = allowed;
  }
}

/**
 * Runs `build`, which makes constructs in a tree of their own (a cdk8s chart in its own app), and
 * reports a bad prop from there as one of `where` (the construct the user configured), the prop as
 * the user wrote it: prefixed with `prop` when it is a string (e.g. `driftCheck.`), or mapped by it.
 * The chart's own path would not say which stack or which model the mistake is in.
 */
export function reportPropsAt<T>(where: IConstruct | string, build: () => T, prop: string | ((chartProp: string) => string) = ''): T {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof InvalidPropError)) throw e;
    const written = typeof prop === 'string' ? prop + e.prop : prop(e.prop);
    throw new InvalidPropError(typeof where === 'string' ? where : where.node.path, written, e.given, e.allowed);
  }
}

/** `text` with each unresolved CDK token shown as `<deploy-time value>`, for messages people read. */
export function printable(text: string): string {
  return text.replace(/[$#]\{Token\[[^\]]+\]\}/g, '<deploy-time value>');
}

/**
 * Whether a string carries an unresolved CDK token (`${Token[...]}`, or `#{Token[...]}` for a list). Those are resolved at deploy
 * time, so synth-time checks must let them through. Detected by shape because this folder does not
 * import aws-cdk-lib.
 */
export function isUnresolved(value: string): boolean {
  return /[$#]\{Token\[[^\]]+\]\}/.test(value);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Throws unless `value` is a deploy-time token or matches `pattern`; `allowed` says what does. */
function assertMatches(scope: IConstruct | string, prop: string, value: string, pattern: RegExp, allowed: string): void {
  if (!isUnresolved(value) && !pattern.test(value)) throw new InvalidPropError(scope, prop, value, allowed);
}

/** Throws unless `value` is an RFC 1123 DNS label (Kubernetes namespace and object names). */
export function assertDnsLabel(scope: IConstruct | string, prop: string, value: string): void {
  assertMatches(scope, prop, value, DNS_LABEL,
    'allowed: an RFC 1123 DNS label (lowercase a-z, 0-9 and "-", starting and ending alphanumeric, at most 63 characters)');
}

/** Throws unless `value` is an RFC 1123 DNS subdomain (names of most Kubernetes objects). */
export function assertDnsSubdomain(scope: IConstruct | string, prop: string, value: string): void {
  assertMatches(scope, prop, value, DNS_SUBDOMAIN,
    'allowed: an RFC 1123 DNS subdomain (lowercase a-z, 0-9, "-" and ".", starting and ending alphanumeric, at most 253 characters)');
}

/** Throws unless `value` is a whole number greater than zero (replicas, workers, days). */
export function assertPositiveInteger(scope: IConstruct | string, prop: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidPropError(scope, prop, value, 'allowed: a whole number greater than 0');
  }
}

const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/;

/** Whether `value` is `s3://<bucket>[/<key>]` with a valid bucket name, or a deploy-time token. */
export function isS3Uri(value: string): boolean {
  return typeof value === 'string' && (isUnresolved(value) || S3_URI.test(value));
}
