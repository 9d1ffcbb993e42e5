// The cluster's IAM OIDC provider as the reconciler needs it: does it exist, and which audiences
// (client IDs) does it accept. Read from IAM at most once per drift period; an object waiting on
// the provider makes the next pass read it again.
import { WaitError } from '../errors.ts';
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

  /** Reads the provider again next time (an object waits for a client ID to be added). */
  forget(arn: string): void {
    this.seen.delete(arn);
  }
}
