// The informer's cache against the real apiserver: lists page through continue tokens, and neither
// listed nor watched objects keep managedFields or kubectl's last-applied annotation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type V1ServiceAccount } from '@kubernetes/client-node';
import { PooledKubeConfig } from '../../src/kube/kubeconfig.ts';
import { listAllPages, ResilientInformer } from '../../src/kube/informer.ts';
import { LAST_APPLIED_ANNOTATION } from '../../src/kube/slim.ts';
import { env, kubectl, newNamespace, waitFor } from './helpers.ts';

const serviceAccount = (ns: string, name: string, note: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels: { team: 'a' }, annotations: { note } } });

describe('informer cache', () => {
  const kc = new PooledKubeConfig();
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    kc.loadFromFile(env().adminKubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    ns = await newNamespace('informer');
    // Client-side apply: the apiserver stores managedFields and kubectl the last-applied copy.
    for (let i = 0; i < 5; i++) await kubectl(['apply', '-f', '-'], serviceAccount(ns, `sa-${i}`, 'v1'));
  });
  after(() => kc.closeConnections());

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
      kc,
      `/api/v1/namespaces/${ns}/serviceaccounts`,
      ({ limit, continueToken }) => core.listNamespacedServiceAccount({ namespace: ns, labelSelector: 'team=a', limit, _continue: continueToken }),
      { onChange: () => undefined, onDelete: () => undefined },
      'team=a',
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
});
