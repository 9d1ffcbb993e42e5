import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { LIST_PAGE_SIZE, listAllPages } from '../../../src/kube/informer.ts';

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
