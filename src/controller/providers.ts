// The IAM OIDC providers in an account, as the reconciler needs them: the cluster's, and those of
// the other clusters a trust admits (spec.additionalClusters). Does each exist, and which
// audiences (client IDs) does it accept. Read from IAM at most once per drift period; an object
// waiting on a provider makes the next pass read it again. With manageOidcProvider the
// operator also creates it, adds the audiences objects use, and puts the issuer's thumbprint on it
// when the issuer's certificate chain changes (checked at each read, once per drift period); the
// writes come from policy/provider.ts. Other clusters' providers are only read.
import { errorMessage, WaitError } from '../errors.ts';
import { audienceNotAllowed } from '../policy/audience.ts';
import { planProvider, providerAfter, providerOwned, type OidcProviderState, type ProviderWant } from '../policy/provider.ts';
import type { TrustSubject } from '../policy/trust.ts';
import type { RoleStore } from './ports.ts';
import { TtlCache } from './ttl-cache.ts';

export type ProviderStore = Pick<RoleStore, 'oidcProvider' | 'applyProvider'>;

/** What managing the provider needs (manageOidcProvider). */
export interface ProviderManagement {
  cluster: string;
  /** IAM's thumbprint of the issuer's certificate chain now. */
  thumbprint: (issuerUrl: string) => Promise<string>;
}

/** The issuer of a provider: arn:aws:iam::1:oidc-provider/host/path -> https://host/path. */
const issuerOf = (arn: string): string => `https://${arn.slice(arn.indexOf(':oidc-provider/') + ':oidc-provider/'.length)}`;

export class Providers {
  private readonly seen: TtlCache<string, OidcProviderState>;
  private readonly manage: ProviderManagement | undefined;
  /** One read (and create) per provider at a time: concurrent passes share it. */
  private readonly inflight = new Map<string, Promise<OidcProviderState | undefined>>();

  constructor(ttlMs: number, now: () => number, manage?: ProviderManagement) {
    this.seen = new TtlCache(ttlMs, now);
    this.manage = manage;
  }

  get manages(): boolean {
    return this.manage !== undefined;
  }

  /**
   * The provider's client IDs; waits (OIDCProviderNotFound) while IAM has no such provider. A
   * managed provider missing is created, accepting `audience`.
   */
  async clientIds(arn: string, store: ProviderStore, audience: string): Promise<readonly string[]> {
    const state = await this.state(arn, store, audience);
    if (!state) {
      throw new WaitError(
        'OIDCProviderNotFound',
        `IAM has no OIDC provider ${arn}: create it for the cluster's issuer (eksctl utils associate-iam-oidc-provider, or aws iam create-open-id-connect-provider), or let the operator manage it (manageOidcProvider)`,
      );
    }
    return state.clientIds;
  }

  /** A managed provider of the operator's own accepts `audience` afterwards (the client ID added); others are left as they are. */
  async admit(arn: string, store: ProviderStore, audience: string): Promise<readonly string[]> {
    const state = await this.state(arn, store, audience);
    if (!this.manage || !state || state.clientIds.includes(audience)) return state?.clientIds ?? [];
    const ops = planProvider(state, this.want(arn, [audience], undefined));
    for (const op of ops) await store.applyProvider(op);
    const after = providerAfter(state, ops);
    this.seen.set(arn, after);
    return after.clientIds;
  }

  /**
   * The provider of another cluster the trust admits (entry `index` of spec.additionalClusters),
   * in the role's account, exists and accepts the audience; waits otherwise. Without it STS
   * refuses that cluster's tokens (and IAM may refuse the trust), so nothing is written before
   * each exists. The operator never writes another cluster's provider.
   */
  async assertOtherCluster(s: TrustSubject, index: number, store: ProviderStore): Promise<void> {
    const entry = `spec.additionalClusters[${index}] (issuer https://${s.issuerHostPath})`;
    const state = this.seen.get(s.oidcProviderArn) ?? (await store.oidcProvider(s.oidcProviderArn));
    if (state === undefined) {
      throw new WaitError(
        'OIDCProviderNotFound',
        `IAM has no OIDC provider ${s.oidcProviderArn} for ${entry}: the role's trust names it, so nothing is written until it exists; create it in this account for that cluster's issuer (aws iam create-open-id-connect-provider --url https://${s.issuerHostPath} --client-id-list ${s.audience}), or remove the entry`,
      );
    }
    this.seen.set(s.oidcProviderArn, state);
    const refused = audienceNotAllowed(s.audience, s.oidcProviderArn, state.clientIds);
    if (refused) {
      this.forget(s.oidcProviderArn);
      throw new WaitError('AudienceNotAllowedByProvider', `${entry}: ${refused}`);
    }
  }

  /** Reads the provider again next time (an object waits for a client ID to be added). */
  forget(arn: string): void {
    this.seen.delete(arn);
  }

  private state(arn: string, store: ProviderStore, audience: string): Promise<OidcProviderState | undefined> {
    const hit = this.seen.get(arn);
    if (hit) return Promise.resolve(hit);
    let pending = this.inflight.get(arn);
    if (!pending) {
      pending = this.read(arn, store, audience).finally(() => this.inflight.delete(arn));
      this.inflight.set(arn, pending);
    }
    return pending;
  }

  /** A fresh read; a managed provider is created when missing and gets the current thumbprint. */
  private async read(arn: string, store: ProviderStore, audience: string): Promise<OidcProviderState | undefined> {
    let state = await store.oidcProvider(arn);
    const m = this.manage;
    if (m && (!state || providerOwned(state.tags, m.cluster))) {
      const ops = planProvider(state, this.want(arn, [audience], await thumbprint(m, issuerOf(arn))));
      for (const op of ops) await store.applyProvider(op);
      if (ops.length > 0) state = providerAfter(state, ops);
    }
    if (state) this.seen.set(arn, state);
    return state;
  }

  private want(arn: string, audiences: readonly string[], thumbprint: string | undefined): ProviderWant {
    return { arn, url: issuerOf(arn), cluster: this.manage?.cluster ?? '', audiences, thumbprint };
  }
}

async function thumbprint(m: ProviderManagement, issuerUrl: string): Promise<string> {
  try {
    return await m.thumbprint(issuerUrl);
  } catch (e) {
    throw new WaitError(
      'OIDCIssuerUnreachable',
      `cannot read the certificate chain of the OIDC issuer ${issuerUrl} for the provider's thumbprint: ${errorMessage(e)}; check that the operator reaches it (and oidcIssuerCAFile for a private CA)`,
    );
  }
}
