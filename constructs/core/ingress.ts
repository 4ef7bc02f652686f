import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { InvalidPropError, isUnresolved } from './errors';
import { NAMESPACE_NAME_LABEL } from './network';

/** Who can reach a load balancer. */
export enum LoadBalancerScheme {
  /** Reachable only from inside the VPC (and networks connected to it). */
  INTERNAL = 'internal',
  /** Reachable from the internet; needs a certificate. */
  INTERNET_FACING = 'internet-facing',
}

/** An Application Load Balancer of EKS Auto Mode for one component's Ingress. */
export interface AlbOptions {
  /**
   * Who can reach the load balancer.
   * @default LoadBalancerScheme.INTERNAL
   */
  readonly scheme?: LoadBalancerScheme;
  /**
   * ARN of the ACM certificate for the host. Required for INTERNET_FACING; for INTERNAL, EKS Auto
   * Mode otherwise finds a certificate in ACM that matches the Ingress's TLS host.
   * @default - discovered by host name (INTERNAL only)
   */
  readonly certificateArn?: string;
  /**
   * Subnets of the load balancer. Its addresses are the sources pods see, so they must not be the
   * subnets pods get their addresses from, or an allow-list for it would admit every pod.
   * @default - the subnets EKS Auto Mode picks by their tags
   */
  readonly subnetIds?: string[];
}

/**
 * An IngressClass for EKS Auto Mode's load balancing with its IngressClassParams: HTTPS only (the
 * Ingress always carries TLS, so the only listener is 443), internal unless asked otherwise, and
 * usable only by Ingresses of `namespace`. Both carry the component's `labels`. Returns the class
 * name, `<namespace>-<name>`.
 */
export function albIngressClass(scope: Construct, name: string, namespace: string, labels: Record<string, string>,
  options: AlbOptions): string {
  const scheme = options.scheme ?? LoadBalancerScheme.INTERNAL;
  if (scheme === LoadBalancerScheme.INTERNET_FACING && options.certificateArn === undefined) {
    throw new InvalidPropError(scope, 'ingress.certificateArn', undefined,
      'allowed: an ACM certificate ARN; an internet-facing load balancer is created only with a certificate of our choosing');
  }
  const arn = options.certificateArn;
  if (arn !== undefined && !isUnresolved(arn) && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(arn)) {
    throw new InvalidPropError(scope, 'ingress.certificateArn', arn, 'allowed: an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)');
  }
  const className = `${namespace}-${name}`;
  new ApiObject(scope, 'IngressClassParams', {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'IngressClassParams',
    metadata: { name: className, labels },
    spec: {
      scheme,
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
      ...(arn ? { certificateARNs: [arn] } : {}),
      ...(options.subnetIds?.length ? { subnets: { ids: options.subnetIds } } : {}),
    },
  });
  new ApiObject(scope, 'IngressClass', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: className, labels },
    spec: {
      controller: 'eks.amazonaws.com/alb',
      parameters: { apiGroup: 'eks.amazonaws.com', kind: 'IngressClassParams', name: className },
    },
  });
  return className;
}

/**
 * Ingress annotations for an ALB of `albIngressClass`: pods as targets (so the NetworkPolicy sees
 * the load balancer's own addresses) and a health check on the component's health path.
 */
export function albIngressAnnotations(healthPath: string): Record<string, string> {
  return {
    'alb.ingress.kubernetes.io/target-type': 'ip',
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS": 443}]',
    'alb.ingress.kubernetes.io/healthcheck-path': healthPath,
  };
}
