// The IAM OIDC providers as the reconciler needs them: the cluster's, and those of the other
// clusters a trust admits (spec.additionalClusters). Does each exist, and which audiences (client
// IDs) does it accept. Read from IAM at most once per drift period; an object waiting on a
// provider makes the next pass read it again.
import { WaitError } from '../errors.ts';
import { audienceNotAllowed } from '../policy/audience.ts';
import type { TrustSubject } from '../policy/trust.ts';
import type { RoleStore } from './ports.ts';
import { TtlCache } from './ttl-cache.ts';

export class Providers {
  private readonly roles: Pick<RoleStore, 'oidcProviderClientIds'>;
  private readonly seen: TtlCache<string, readonly string[]>;

  constructor(roles: Pick<RoleStore, 'oidcProviderClientIds'>, ttlMs: number, now: () => number) {
    this.roles = roles;
    this.seen = new TtlCache(ttlMs, now);
  }

  /** The provider's client IDs; waits (OIDCProviderNotFound) while IAM has no such provider. */
  async clientIds(arn: string): Promise<readonly string[]> {
    const hit = this.seen.get(arn);
    if (hit) return hit;
    const ids = await this.roles.oidcProviderClientIds(arn);
    if (ids === undefined) {
      throw new WaitError(
        'OIDCProviderNotFound',
        `IAM has no OIDC provider ${arn}: create it for the cluster's issuer (eksctl utils associate-iam-oidc-provider, or aws iam create-open-id-connect-provider)`,
      );
    }
    this.seen.set(arn, ids);
    return ids;
  }

  /**
   * The provider of another cluster the trust admits (entry `index` of spec.additionalClusters)
   * exists and accepts the audience; waits otherwise. Without it STS refuses that cluster's
   * tokens (and IAM may refuse the trust), so nothing is written before each exists.
   */
  async assertOtherCluster(s: TrustSubject, index: number): Promise<void> {
    const entry = `spec.additionalClusters[${index}] (issuer https://${s.issuerHostPath})`;
    const hit = this.seen.get(s.oidcProviderArn);
    const ids = hit ?? (await this.roles.oidcProviderClientIds(s.oidcProviderArn));
    if (ids === undefined) {
      throw new WaitError(
        'OIDCProviderNotFound',
        `IAM has no OIDC provider ${s.oidcProviderArn} for ${entry}: the role's trust names it, so nothing is written until it exists; create it in this account for that cluster's issuer (aws iam create-open-id-connect-provider --url https://${s.issuerHostPath} --client-id-list ${s.audience}), or remove the entry`,
      );
    }
    this.seen.set(s.oidcProviderArn, ids);
    const refused = audienceNotAllowed(s.audience, s.oidcProviderArn, ids);
    if (refused) {
      this.forget(s.oidcProviderArn);
      throw new WaitError('AudienceNotAllowedByProvider', `${entry}: ${refused}`);
    }
  }

  /** Reads the provider again next time (an object waits for a client ID to be added). */
  forget(arn: string): void {
    this.seen.delete(arn);
  }
}
