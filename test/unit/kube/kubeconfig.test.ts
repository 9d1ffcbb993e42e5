import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from '../../../src/kube/kubeconfig.ts';

// A self-signed CA is not needed: the dispatcher is built from the options, nothing connects.
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

function load<T extends KubeConfig>(kc: T, user: string): T {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: CA, skipTLSVerify: false }],
    users: [{ name: user, token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('PooledKubeConfig', () => {
  it('hands every request the same dispatcher (connection pool)', async () => {
    const kc = load(new PooledKubeConfig(), 'u');
    const first = await dispatcherOf(kc);
    assert.ok(first);
    assert.equal(await dispatcherOf(kc), first);
    assert.equal(await dispatcherOf(kc), first);
    await kc.closeConnections();
  });

  it('is needed: the plain KubeConfig builds a new one per request', async () => {
    const kc = load(new KubeConfig(), 'u');
    assert.notEqual(await dispatcherOf(kc), await dispatcherOf(kc));
  });

  it('keeps separate pools for separate identities', async () => {
    const kc = load(new PooledKubeConfig(), 'u');
    const a = await dispatcherOf(kc);
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: CA, skipTLSVerify: false }],
      users: [{ name: 'other', token: 't', certData: 'Y2VydA==', keyData: 'a2V5' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'other' }],
      currentContext: 'x',
    });
    assert.notEqual(await dispatcherOf(kc), a);
    await kc.closeConnections();
  });
});
