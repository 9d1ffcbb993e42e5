// The cluster's IAM OIDC provider when the operator manages it (manageOidcProvider): what IAM has,
// what the operator wants, and the writes between them. Pure. The operator creates a provider it
// does not find, tagged as its own; on a provider of its own it adds missing client IDs (the
// audiences in use) and puts the issuer's current thumbprint. It never removes a client ID, never
// deletes a provider (every role trusting it would fail), and never writes a provider it did not
// tag.
import { MANAGED_BY_VALUE } from '../api/types.ts';
import { OWNER_TAGS } from './desired.ts';

/** A provider as IAM holds it. */
export interface OidcProviderState {
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
}

export type ProviderOperation =
  | { op: 'CreateOpenIDConnectProvider'; url: string; clientIds: string[]; thumbprint: string; tags: Record<string, string> }
  | { op: 'AddClientIDToOpenIDConnectProvider'; arn: string; clientId: string }
  | { op: 'UpdateOpenIDConnectProviderThumbprint'; arn: string; thumbprint: string };

/** The tags that mark a provider as this operator's, for this cluster. */
export function providerTags(cluster: string): Record<string, string> {
  return { [OWNER_TAGS.managedBy]: MANAGED_BY_VALUE, [OWNER_TAGS.cluster]: cluster };
}

export function providerOwned(tags: Record<string, string>, cluster: string): boolean {
  return Object.entries(providerTags(cluster)).every(([k, v]) => tags[k] === v);
}

export interface ProviderWant {
  arn: string;
  /** The issuer URL (https://...). */
  url: string;
  cluster: string;
  /** Audiences the provider must accept. */
  audiences: readonly string[];
  /** The issuer's thumbprint; undefined when this pass does not check it (between drift periods). */
  thumbprint: string | undefined;
}

/**
 * The writes that make IAM's provider what the operator wants. A provider that is not the
 * operator's gets none: whoever made it keeps it.
 */
export function planProvider(actual: OidcProviderState | undefined, want: ProviderWant): ProviderOperation[] {
  if (!actual) {
    if (want.thumbprint === undefined) throw new Error('creating a provider needs the issuer thumbprint');
    return [
      {
        op: 'CreateOpenIDConnectProvider',
        url: want.url,
        clientIds: [...new Set(want.audiences)],
        thumbprint: want.thumbprint,
        tags: providerTags(want.cluster),
      },
    ];
  }
  if (!providerOwned(actual.tags, want.cluster)) return [];
  const ops: ProviderOperation[] = [...new Set(want.audiences)]
    .filter((a) => !actual.clientIds.includes(a))
    .map((clientId) => ({ op: 'AddClientIDToOpenIDConnectProvider', arn: want.arn, clientId }));
  if (want.thumbprint !== undefined && !actual.thumbprints.includes(want.thumbprint)) {
    ops.push({ op: 'UpdateOpenIDConnectProviderThumbprint', arn: want.arn, thumbprint: want.thumbprint });
  }
  return ops;
}

/** What IAM holds once the operations ran. */
export function providerAfter(actual: OidcProviderState | undefined, ops: readonly ProviderOperation[]): OidcProviderState {
  let state: OidcProviderState = actual ?? { clientIds: [], thumbprints: [], tags: {} };
  for (const o of ops) {
    if (o.op === 'CreateOpenIDConnectProvider') state = { clientIds: [...o.clientIds], thumbprints: [o.thumbprint], tags: { ...o.tags } };
    else if (o.op === 'AddClientIDToOpenIDConnectProvider') state = { ...state, clientIds: [...state.clientIds, o.clientId] };
    else state = { ...state, thumbprints: [o.thumbprint] };
  }
  return state;
}

/** A certificate of a TLS chain, as far as the thumbprint needs it. */
export interface ChainCertificate {
  subject: string;
  issuer: string;
  /** SHA-1 of the DER certificate, hex (any case, colons allowed: X509Certificate.fingerprint). */
  sha1: string;
}

/**
 * IAM's thumbprint of an issuer: the SHA-1 of the top intermediate CA's certificate, i.e. the last
 * certificate of the chain the server presents (leaf first) once a self-signed root is left out;
 * the leaf itself when no intermediate is presented. 40 lowercase hex digits.
 */
export function issuerThumbprint(chain: readonly ChainCertificate[]): string {
  const presented = chain.length > 1 && chain.at(-1)?.subject === chain.at(-1)?.issuer ? chain.slice(0, -1) : chain;
  const top = presented.at(-1);
  if (!top) throw new Error('the issuer presented no certificate');
  const hex = top.sha1.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new Error(`not a SHA-1 fingerprint: ${top.sha1}`);
  return hex;
}
