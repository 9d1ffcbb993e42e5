// The informer against the real apiserver: lists page through continue tokens, neither listed nor
// watched objects keep managedFields or kubectl's last-applied annotation, and while the apiserver
// is unreachable it retries with a growing delay that starts over once a watch connects again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CoreV1Api, type KubernetesListObject, type V1ServiceAccount } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/kube/http.ts';
import { listAllPages, ResilientInformer } from '../../src/kube/informer.ts';
import { LAST_APPLIED_ANNOTATION } from '../../src/kube/slim.ts';
import { INFORMER_BACKOFF } from '../../src/kube/informer.ts';
import { TcpProxy } from '../env/tcp-proxy.ts';
import { env, kubectl, newNamespace, waitFor } from './helpers.ts';

const serviceAccount = (ns: string, name: string, note: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: ns, labels: { team: 'a' }, annotations: { note } },
  });

describe('informer cache', () => {
  const kc = new KubeConfig();
  let http: KubeHttp;
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    kc.loadFromFile(env().adminKubeconfig);
    http = new KubeHttp(kc);
    core = kc.makeApiClient(CoreV1Api);
    ns = await newNamespace('informer');
    // Client-side apply: the apiserver stores managedFields and kubectl the last-applied copy.
    for (let i = 0; i < 5; i++) await kubectl(['apply', '-f', '-'], serviceAccount(ns, `sa-${i}`, 'v1'));
  });
  after(() => http.close());

  it('lists through continue tokens, page by page, to the same objects as one list', async () => {
    let pages = 0;
    const paged = await listAllPages(({ continueToken }) => {
      pages++;
      return core.listNamespacedServiceAccount({ namespace: ns, labelSelector: 'team=a', limit: 2, _continue: continueToken });
    });
    const whole = await core.listNamespacedServiceAccount({ namespace: ns, labelSelector: 'team=a' });
    assert.equal(pages, 3);
    assert.deepEqual(paged.items.map((sa) => sa.metadata?.name).sort(), whole.items.map((sa) => sa.metadata?.name).sort());
    assert.ok(paged.metadata?.resourceVersion, 'the snapshot resourceVersion to watch from');
  });

  it('keeps listed and watched objects without managedFields and the last-applied annotation', async () => {
    const raw = await core.readNamespacedServiceAccount({ namespace: ns, name: 'sa-0' });
    assert.ok(raw.metadata?.managedFields?.length, 'the apiserver sends managedFields');
    assert.ok(raw.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], 'kubectl apply stores its last-applied copy');

    const informer = new ResilientInformer<V1ServiceAccount>(
      http,
      `/api/v1/namespaces/${ns}/serviceaccounts`,
      listTeamA(http, ns),
      { onChange: () => undefined, onDelete: () => undefined },
      { labelSelector: 'team=a' },
    );
    try {
      await informer.start();
      const listed = informer.get('sa-0', ns);
      assert.equal(listed?.metadata?.annotations?.note, 'v1');
      assert.equal(listed?.metadata?.managedFields, undefined);
      assert.equal(listed?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], undefined);

      await kubectl(['apply', '-f', '-'], serviceAccount(ns, 'sa-0', 'v2'));
      await waitFor('the watch to deliver the change', () => informer.get('sa-0', ns)?.metadata?.annotations?.note === 'v2', 10_000, 20);
      const watched = informer.get('sa-0', ns);
      assert.equal(watched?.metadata?.managedFields, undefined);
      assert.equal(watched?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], undefined);
      assert.deepEqual(watched?.metadata?.labels, { team: 'a' });
      assert.equal(informer.list().length, 5);
    } finally {
      await informer.stop();
    }
  });

  it('backs off 1 s, 2 s, 4 s while the apiserver is unreachable, and starts from 1 s again once reconnected', async () => {
    const proxy = new TcpProxy(Number(new URL(env().apiserverUrl).port));
    await proxy.start();
    const viaProxyConfig = new KubeConfig();
    viaProxyConfig.loadFromString(TcpProxy.kubeconfigThrough(JSON.stringify(kcJson()), proxy.port));
    const viaProxy = new KubeHttp(viaProxyConfig);
    const delays: number[] = [];
    const informer = new ResilientInformer<V1ServiceAccount>(
      viaProxy,
      `/api/v1/namespaces/${ns}/serviceaccounts`,
      listTeamA(viaProxy, ns),
      { onChange: () => undefined, onDelete: () => undefined, onRestart: (_err, delayMs) => delays.push(delayMs) },
      { labelSelector: 'team=a' },
    );
    try {
      await informer.start();
      // Down 6 s: attempts at ~1 s and ~3 s fail, the one at ~7 s connects.
      await proxy.downFor(6_000);
      await kubectl(['apply', '-f', '-'], serviceAccount(ns, 'sa-1', 'after-outage'));
      await waitFor(
        'the informer to see a change made after the outage',
        () => informer.get('sa-1', ns)?.metadata?.annotations?.note === 'after-outage',
        20_000,
        50,
      );
      assert.deepEqual(delays, [INFORMER_BACKOFF.baseMs, 2 * INFORMER_BACKOFF.baseMs, 4 * INFORMER_BACKOFF.baseMs]);

      delays.length = 0;
      await proxy.downFor(500);
      await waitFor('the informer to retry after the second cut', () => delays.length > 0, 10_000, 20);
      assert.equal(delays[0], INFORMER_BACKOFF.baseMs, 'the delay started over after the watch reconnected');
    } finally {
      await informer.stop();
      viaProxy.close();
      await proxy.stop();
    }
  });
});

/** The admin kubeconfig as JSON (kubectl writes it as JSON or YAML; loadFromString takes either). */
function kcJson(): unknown {
  const kc = new KubeConfig();
  kc.loadFromString(readFileSync(env().adminKubeconfig, 'utf8'));
  return JSON.parse(kc.exportConfig());
}

/** The team=a ServiceAccounts of a namespace, a page at a time, through the operator's transport. */
function listTeamA(http: KubeHttp, ns: string) {
  return ({ limit, continueToken }: { limit: number; continueToken: string | undefined }) =>
    http.request<KubernetesListObject<V1ServiceAccount>>('GET', `/api/v1/namespaces/${ns}/serviceaccounts`, {
      query: { labelSelector: 'team=a', limit, continue: continueToken },
    });
}
