import { IConstruct } from 'constructs';
import { InvalidPropError, isUnresolved } from './errors';

// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), for the checks a pod's
// requests and limits must pass at admission: decimal or binary suffixes, or an exponent.
const QUANTITY = /^([+]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;
const FACTOR: Record<string, number> = {
  'm': 1e-3, '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/**
 * The value of a quantity (CPUs, bytes), or undefined for a deploy-time token; throws naming the
 * prop for anything the API server would refuse.
 */
export function parseQuantity(scope: IConstruct | string, prop: string, value: string): number | undefined {
  if (typeof value === 'string' && isUnresolved(value)) return undefined;
  const match = typeof value === 'string' ? QUANTITY.exec(value) : null;
  if (!match) {
    throw new InvalidPropError(scope, prop, value, "allowed: a Kubernetes quantity, e.g. '250m' or '2' (CPU), '512Mi' or '4Gi' (memory)");
  }
  const [, number, exponent, suffix] = match;
  return Number(number) * (exponent ? 10 ** Number(exponent.slice(1)) : FACTOR[suffix ?? '']);
}

/** Throws unless the limit `limitProp` is at least the request `requestProp` (the API server refuses a pod otherwise). */
export function assertLimitCoversRequest(scope: IConstruct | string, requestProp: string, request: string, limitProp: string, limit: string): void {
  const asked = parseQuantity(scope, requestProp, request);
  const allowed = parseQuantity(scope, limitProp, limit);
  if (asked !== undefined && allowed !== undefined && allowed < asked) {
    throw new InvalidPropError(scope, limitProp, limit, `allowed: at least ${requestProp} (${JSON.stringify(request)}); a limit below the request makes every pod invalid`);
  }
}
