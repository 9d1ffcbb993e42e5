import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { servingChain } from '../../env/certs.ts';
import {
  issuerThumbprint,
  planProvider,
  providerAfter,
  providerOwned,
  providerTags,
  type OidcProviderState,
} from '../../../src/policy/provider.ts';

const ARN = 'arn:aws:iam::123456789012:oidc-provider/issuer.example.com/id/A';
const URL = 'https://issuer.example.com/id/A';
const TP = 'a'.repeat(40);
const want = (audiences: string[]) => ({ arn: ARN, url: URL, cluster: 'prod', audiences, thumbprint: TP as string | undefined });
/** A pass that does not check the thumbprint. */
const unchecked = (audiences: string[]) => ({ ...want(audiences), thumbprint: undefined });
const owned = (clientIds: string[], thumbprints = [TP]): OidcProviderState => ({ clientIds, thumbprints, tags: providerTags('prod') });

describe('planProvider', () => {
  it('creates a missing provider with the audiences, the thumbprint and the ownership tags', () => {
    assert.deepEqual(planProvider(undefined, want(['sts.amazonaws.com', 'sts.amazonaws.com'])), [
      {
        op: 'CreateOpenIDConnectProvider',
        url: URL,
        clientIds: ['sts.amazonaws.com'],
        thumbprint: TP,
        tags: { 'irsa.dev/managed-by': 'irsa-operator', 'irsa.dev/cluster': 'prod' },
      },
    ]);
  });

  it('cannot create without a thumbprint', () => {
    assert.throws(() => planProvider(undefined, unchecked(['a'])), /thumbprint/);
  });

  it('adds missing client IDs and never removes one', () => {
    assert.deepEqual(planProvider(owned(['sts.amazonaws.com', 'old']), want(['vault', 'sts.amazonaws.com'])), [
      { op: 'AddClientIDToOpenIDConnectProvider', arn: ARN, clientId: 'vault' },
    ]);
  });

  it('puts the thumbprint of a changed chain, and leaves one the provider lists', () => {
    assert.deepEqual(planProvider(owned(['a'], ['b'.repeat(40)]), want(['a'])), [
      { op: 'UpdateOpenIDConnectProviderThumbprint', arn: ARN, thumbprint: TP },
    ]);
    assert.deepEqual(planProvider(owned(['a'], ['b'.repeat(40), TP]), want(['a'])), []);
    assert.deepEqual(planProvider(owned(['a'], ['b'.repeat(40)]), unchecked(['a'])), [], 'no thumbprint checked: none written');
  });

  it("never writes a provider someone else made, or another cluster's", () => {
    assert.deepEqual(planProvider({ clientIds: [], thumbprints: [], tags: {} }, want(['vault'])), []);
    assert.deepEqual(planProvider({ clientIds: [], thumbprints: [], tags: providerTags('staging') }, want(['vault'])), []);
    assert.equal(providerOwned(providerTags('prod'), 'prod'), true);
    assert.equal(providerOwned(providerTags('prod'), 'staging'), false);
  });

  it('providerAfter is what IAM holds once the operations ran', () => {
    const ops = planProvider(owned(['a'], ['b'.repeat(40)]), want(['a', 'b']));
    assert.deepEqual(providerAfter(owned(['a'], ['b'.repeat(40)]), ops), owned(['a', 'b'], [TP]));
    assert.deepEqual(providerAfter(undefined, planProvider(undefined, want(['a']))), owned(['a']));
  });
});

describe('issuerThumbprint', () => {
  const cert = (subject: string, issuer: string, sha1: string) => ({ subject, issuer, sha1 });
  it('is the top intermediate: the last certificate below a self-signed root', () => {
    const chain = [
      cert('CN=leaf', 'CN=inter', '11'.repeat(20)),
      cert('CN=inter', 'CN=root', 'AB:'.repeat(19) + 'AB'),
      cert('CN=root', 'CN=root', '33'.repeat(20)),
    ];
    assert.equal(issuerThumbprint(chain), 'ab'.repeat(20));
  });
  it('is the last certificate presented when no root is among them, and the leaf alone when it is alone', () => {
    assert.equal(issuerThumbprint([cert('CN=leaf', 'CN=i1', '11'.repeat(20)), cert('CN=i1', 'CN=i2', '22'.repeat(20))]), '22'.repeat(20));
    assert.equal(issuerThumbprint([cert('CN=leaf', 'CN=leaf', '11'.repeat(20))]), '11'.repeat(20));
  });
  it('refuses an empty chain or a fingerprint that is not SHA-1', () => {
    assert.throws(() => issuerThumbprint([]), /no certificate/);
    assert.throws(() => issuerThumbprint([cert('a', 'b', 'xyz')]), /SHA-1/);
  });
  it("of a root -> intermediate -> leaf chain made by test/env/certs.ts: the intermediate's SHA-1", () => {
    const chain = servingChain();
    const parsed = [chain.leaf, chain.intermediate, chain.root].map((pem) => new X509Certificate(pem));
    const thumbprint = issuerThumbprint(parsed.map((c) => ({ subject: c.subject, issuer: c.issuer, sha1: c.fingerprint })));
    assert.equal(thumbprint, new X509Certificate(chain.intermediate).fingerprint.replaceAll(':', '').toLowerCase());
  });
});
