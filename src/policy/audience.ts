// Which audience a ServiceAccount's tokens carry, and whether the cluster's IAM OIDC provider
// accepts it. STS refuses a token whose aud is not among the provider's client IDs ("Incorrect
// token audience"), whatever the role's trust says. Pure.

/** EKS issues tokens for this audience in every partition, China included. */
export const STS_AUDIENCE = 'sts.amazonaws.com';
/** Self-managed clusters in China (Giant Swarm style) use this one. */
export const STS_AUDIENCE_CN = 'sts.amazonaws.com.cn';

/**
 * The audience of an object that names none: the operator's configured default, else the STS
 * audience the provider lists (sts.amazonaws.com first), else sts.amazonaws.com.
 */
export function defaultAudience(configured: string | undefined, clientIds: readonly string[]): string {
  if (configured !== undefined) return configured;
  return [STS_AUDIENCE, STS_AUDIENCE_CN].find((a) => clientIds.includes(a)) ?? STS_AUDIENCE;
}

/** Why the provider refuses tokens of this audience, for a person; undefined when it accepts them. */
export function audienceNotAllowed(audience: string, providerArn: string, clientIds: readonly string[]): string | undefined {
  if (clientIds.includes(audience)) return undefined;
  const listed = clientIds.length > 0 ? clientIds.join(', ') : 'none';
  return `the IAM OIDC provider ${providerArn} accepts the audiences ${listed}, not ${audience}: STS would refuse every token. Add ${audience} to the provider's client IDs (aws iam add-client-id-to-open-id-connect-provider), or set spec.audience to one it lists`;
}
