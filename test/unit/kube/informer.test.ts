// What the real API server cannot be made to do on demand: expire a watch (410 Gone). Played by
// a local HTTP server that answers lists and watches as the API server does, the informer lists
// again, reports what changed and what went away while it was not watching, and watches on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { KubeHttp } from '../../../src/kube/http.ts';
import { ResilientInformer } from '../../../src/kube/informer.ts';
import { waitFor } from '../../env/processes.ts';

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
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const http = new KubeHttp(kc);
    const changed: string[] = [];
    const deleted: string[] = [];
    const restarts: unknown[] = [];
    const informer = new ResilientInformer(
      http,
      '/api/v1/namespaces/ns/serviceaccounts',
      () => http.request<KubernetesListObject<KubernetesObject>>('GET', '/api/v1/namespaces/ns/serviceaccounts'),
      {
        onChange: (o) => changed.push(`${o.metadata?.name}@${o.metadata?.resourceVersion}`),
        onDelete: (o) => deleted.push(`${o.metadata?.name}@${o.metadata?.resourceVersion}`),
        onRestart: (err) => restarts.push(err),
      },
    );
    try {
      await informer.start();
      await waitFor('the second watch', () => open.length === 1, 5_000, 10);
      assert.deepEqual(watchUrls, ['10', '20'], 'watched from each list');
      assert.deepEqual(changed, ['a@1', 'b@2', 'a@11', 'b@5', 'c@6']);
      assert.deepEqual(deleted, ['a@11'], 'a, deleted while the watch was gone, is reported once with its last state');
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        ['b', 'c'],
      );
      assert.deepEqual(restarts, [], 'an expired watch is not a failure: no backoff');
    } finally {
      await informer.stop();
      for (const r of open) r.destroy();
      http.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
