// Paged lists, and what the real API server cannot be made to do on demand: expire a watch (410
// Gone). Played by a local HTTP server that answers lists and watches as the API server does, the
// informer lists again, reports what changed and what went away meanwhile, and watches on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { KubeHttp } from '../../../src/kube/http.ts';
import { LIST_PAGE_SIZE, listAllPages, ResilientInformer } from '../../../src/kube/informer.ts';
import { waitFor } from '../../env/processes.ts';
import { kubeConfigFor } from './local-server.ts';

// A list endpoint over `total` objects that pages as the apiserver does: `limit` items per page
// and a continue token while more remain; the snapshot's resourceVersion on every page.
function pagedList(total: number) {
  const calls: { limit: number; continueToken: string | undefined }[] = [];
  const listPage = (page: { limit: number; continueToken: string | undefined }): Promise<KubernetesListObject<KubernetesObject>> => {
    calls.push(page);
    const start = Number(page.continueToken ?? 0);
    const end = Math.min(start + page.limit, total);
    const items = Array.from({ length: end - start }, (_, i) => ({
      metadata: { name: `o-${start + i}`, managedFields: [{ manager: 'kubectl' }] },
    }));
    return Promise.resolve({
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '77', ...(end < total ? { _continue: String(end) } : {}) },
      items,
    });
  };
  return { calls, listPage };
}

describe('listAllPages', () => {
  it('reads every page, in order, and returns the snapshot resourceVersion', async () => {
    const total = LIST_PAGE_SIZE * 2 + 3;
    const { calls, listPage } = pagedList(total);
    const list = await listAllPages(listPage);
    assert.equal(list.items.length, total);
    assert.deepEqual(
      list.items.map((o) => o.metadata?.name),
      Array.from({ length: total }, (_, i) => `o-${i}`),
    );
    assert.equal(list.metadata?.resourceVersion, '77');
    assert.deepEqual(calls, [
      { limit: LIST_PAGE_SIZE, continueToken: undefined },
      { limit: LIST_PAGE_SIZE, continueToken: String(LIST_PAGE_SIZE) },
      { limit: LIST_PAGE_SIZE, continueToken: String(LIST_PAGE_SIZE * 2) },
    ]);
  });

  it('makes one call for an empty list', async () => {
    const { calls, listPage } = pagedList(0);
    assert.deepEqual((await listAllPages(listPage)).items, []);
    assert.equal(calls.length, 1);
  });

  it('caches objects without their managedFields', async () => {
    const { listPage } = pagedList(2);
    for (const o of (await listAllPages(listPage)).items) assert.equal(o.metadata && 'managedFields' in o.metadata, false);
  });

  it('caches what a kind’s `keep` leaves of each object, given without its bookkeeping', async () => {
    const { listPage } = pagedList(3);
    const given: boolean[] = [];
    const keep = (o: KubernetesObject): KubernetesObject => {
      given.push(o.metadata !== undefined && 'managedFields' in o.metadata);
      return { metadata: { name: o.metadata?.name, labels: { kept: 'yes' } } };
    };
    const items = (await listAllPages(listPage, keep)).items;
    assert.deepEqual(
      items.map((o) => o.metadata?.labels),
      [{ kept: 'yes' }, { kept: 'yes' }, { kept: 'yes' }],
    );
    assert.deepEqual(given, [false, false, false], 'managedFields are gone before keep sees an object');
  });

  it('fails when a page fails (the informer restarts and lists again)', async () => {
    let n = 0;
    await assert.rejects(
      listAllPages(() => {
        n++;
        if (n === 2) return Promise.reject(new Error('410 Gone: continue token expired'));
        return Promise.resolve({ metadata: { _continue: 'x' }, items: [] });
      }),
      /expired/,
    );
  });
});

const sa = (name: string, rv: string): KubernetesObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

describe('ResilientInformer', () => {
  it('lists again when its watch expires, and tells what changed and what was deleted meanwhile', async () => {
    const lists: KubernetesObject[][] = [
      [sa('a', '1'), sa('b', '2')],
      [sa('b', '5'), sa('c', '6')],
    ];
    const watchUrls: string[] = [];
    const open: ServerResponse[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (url.searchParams.get('watch') !== 'true') {
        const items = lists.shift() ?? [];
        return res.end(JSON.stringify({ metadata: { resourceVersion: String(10 * (2 - lists.length)) }, items }));
      }
      watchUrls.push(url.searchParams.get('resourceVersion') ?? '');
      if (watchUrls.length === 1) {
        // The first watch: one change, a bookmark, then the server says its history is gone.
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: sa('a', '11') })}\n`);
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } })}\n`);
        return res.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
        );
      }
      open.push(res); // the second watch stays open
    });
    const kc = await kubeConfigFor(server, 't');
    const http = new KubeHttp(kc);
    const changed: string[] = [];
    const deleted: string[] = [];
    const restarts: unknown[] = [];
    // What the cache keeps of each object: here, its name and resourceVersion with a mark.
    const keep = (o: KubernetesObject): KubernetesObject => ({
      metadata: {
        name: o.metadata?.name,
        namespace: o.metadata?.namespace,
        resourceVersion: o.metadata?.resourceVersion,
        labels: { kept: 'yes' },
      },
    });
    const seen = (o: KubernetesObject) =>
      `${o.metadata?.name}@${o.metadata?.resourceVersion}${o.metadata?.labels?.kept ? '' : ' (not kept)'}`;
    const informer = new ResilientInformer(
      http,
      '/api/v1/namespaces/ns/serviceaccounts',
      () => http.request<KubernetesListObject<KubernetesObject>>('GET', '/api/v1/namespaces/ns/serviceaccounts'),
      { onChange: (o) => changed.push(seen(o)), onDelete: (o) => deleted.push(seen(o)), onRestart: (err) => restarts.push(err) },
      { keep },
    );
    try {
      await informer.start();
      await waitFor('the second watch', () => open.length === 1, 5_000, 10);
      assert.deepEqual(watchUrls, ['10', '20'], 'watched from each list');
      assert.deepEqual(changed, ['a@1', 'b@2', 'a@11', 'b@5', 'c@6']);
      assert.deepEqual(deleted, ['a@11'], 'a, deleted while the watch was gone, is reported once with its last state');
      assert.deepEqual(informer.list().map(seen), ['b@5', 'c@6'], 'listed and watched objects are cached as `keep` leaves them');
      assert.deepEqual([...informer.each('ns')].map(seen), ['b@5', 'c@6'], 'each: the same objects, read in place');
      assert.deepEqual([...informer.each('other')], []);
      assert.deepEqual(restarts, [], 'an expired watch is not a failure: no backoff');
    } finally {
      await informer.stop();
      for (const r of open) r.destroy();
      http.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
