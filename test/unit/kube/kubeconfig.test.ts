import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KUBE_REQUEST_TIMEOUT_MS, PooledKubeConfig } from '../../../src/kube/kubeconfig.ts';

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

  it('gives every request a deadline, and keeps a signal the caller set', async () => {
    const kc = load(new PooledKubeConfig(), 'u');
    const ctx = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    assert.ok(ctx.getSignal(), 'a deadline was set');
    assert.equal(ctx.getSignal()?.aborted, false);

    const own = new AbortController().signal;
    const withOwn = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    withOwn.setSignal(own);
    await kc.applySecurityAuthentication(withOwn);
    assert.equal(withOwn.getSignal(), own);
    assert.ok(KUBE_REQUEST_TIMEOUT_MS >= 10_000, 'long enough for a page of 500 objects');
    await kc.closeConnections();
  });

  it('fails a request to a server that never answers instead of waiting forever', async () => {
    // A black hole: accepts the connection, never completes TLS, never answers.
    const sockets = new Set<Socket>();
    const server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new PooledKubeConfig(300);
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: CA, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    try {
      const started = performance.now();
      await assert.rejects(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }), /abort|timeout/i);
      assert.ok(performance.now() - started < 5_000, 'failed at its deadline, not at the 10 s connect timeout of undici');
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      await kc.closeConnections();
    }
  });
});
