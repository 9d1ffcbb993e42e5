// Partitions, audiences, issuers and ARNs. Pure.

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

export function partitionForRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The issuer as IAM names it: the URL without its scheme and without trailing slashes, e.g.
 * `oidc.eks.eu-west-1.amazonaws.com/id/ABC`. Accepts the URL with or without `https://`.
 * Throws on anything that is not an https issuer (IAM accepts no other).
 */
export function issuerHostPath(issuer: string): string {
  const trimmed = issuer.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^https:\/\//i.test(trimmed)) {
    throw new Error(`OIDC issuer ${JSON.stringify(issuer)} must use https://`);
  }
  const hostPath = trimmed.replace(/^https:\/\//i, '').replace(/\/+$/, '');
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(\/[\w.~%!$&'()*+,;=:@-]+)*$/i.test(hostPath)) {
    throw new Error(`OIDC issuer ${JSON.stringify(issuer)} is not a URL of the form https://host/path`);
  }
  return hostPath.replace(/^[^/]+/, (host) => host.toLowerCase());
}

export function oidcProviderArn(partition: Partition, account: string, hostPath: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`;
}

/** An EKS cluster's ARN, as DescribeCluster gives it (the CLI works it out offline). */
export function eksClusterArn(partition: Partition, region: string, account: string, name: string): string {
  return `arn:${partition}:eks:${region}:${account}:cluster/${name}`;
}

export function roleArn(partition: Partition, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

export function managedPolicyArn(partition: Partition, account: string, name: string): string {
  return `arn:${partition}:iam::${account}:policy/${name}`;
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const m = /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, partition = '', service = '', region = '', account = '', resource = ''] = m;
  return { partition, service, region, account, resource };
}

/** The role name at the end of a role ARN's path: arn:aws:iam::1:role/a/b/name -> name. */
export function roleNameFromArn(arn: string): string | undefined {
  const parsed = parseArn(arn);
  if (parsed?.service !== 'iam' || !parsed.resource.startsWith('role/')) return undefined;
  return parsed.resource.slice(parsed.resource.lastIndexOf('/') + 1);
}
