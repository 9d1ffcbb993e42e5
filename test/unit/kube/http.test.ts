// The operator's Kubernetes transport against a local HTTP server: one kept-alive connection for
// many requests, the kubeconfig's credentials on each, the API server's Status turned into an
// error people can read, a deadline on a server that never answers, and watch streams split into
// events however the bytes arrive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isKubeStatus, KUBE_REQUEST_TIMEOUT_MS, KubeApiError, KubeHttp, withQuery, type WatchEvent } from '../../../src/kube/http.ts';
import { kubeConfigFor } from './local-server.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(handler: Handler): Promise<{ http: KubeHttp; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
  });
  const kc = await kubeConfigFor(server, 'the-token');
  const http = new KubeHttp(kc, 500);
  return {
    http,
    connections: () => connections,
    close: async () => {
      http.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (res: ServerResponse, code: number, body: unknown) =>
  res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

describe('KubeHttp', () => {
  it('sends the kubeconfig token, the query and a JSON body, and keeps one connection for many requests', async () => {
    const seen: { method: string; url: string; auth: string; type: string; body: string }[] = [];
    const s = await serve((req, res, body) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        auth: req.headers.authorization ?? '',
        type: req.headers['content-type'] ?? '',
        body,
      });
      json(res, 200, { ok: seen.length });
    });
    try {
      assert.deepEqual(await s.http.request('GET', '/api/v1/namespaces/a', { query: { limit: 5, continue: undefined } }), { ok: 1 });
      await s.http.request('PATCH', '/x', { body: { a: 1 }, contentType: 'application/merge-patch+json' });
      await s.http.request('POST', '/y', { body: { b: 2 } });
      assert.deepEqual(seen, [
        { method: 'GET', url: '/api/v1/namespaces/a?limit=5', auth: 'Bearer the-token', type: '', body: '' },
        { method: 'PATCH', url: '/x', auth: 'Bearer the-token', type: 'application/merge-patch+json', body: '{"a":1}' },
        { method: 'POST', url: '/y', auth: 'Bearer the-token', type: 'application/json', body: '{"b":2}' },
      ]);
      assert.equal(s.connections(), 1, 'three requests, one connection');
    } finally {
      await s.close();
    }
  });

  it("turns the API server's Status into a KubeApiError with its code, reason and message", async () => {
    const s = await serve((req, res) =>
      req.url === '/status'
        ? json(res, 409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified', code: 409 })
        : res.writeHead(502).end('<html>bad gateway</html>'),
    );
    try {
      const err = await s.http.request('PUT', '/status', { body: {} }).catch((e: unknown) => e);
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.code, 409);
      assert.equal(err.reason, 'Conflict');
      assert.equal(err.message, 'PUT /status: 409 Conflict: the object has been modified');
      assert.ok(isKubeStatus(err, 409));
      assert.ok(!isKubeStatus(err, 404));
      assert.ok(!isKubeStatus(new Error('409'), 409));

      const proxied = await s.http.request('GET', '/elsewhere').catch((e: unknown) => e);
      assert.ok(proxied instanceof KubeApiError);
      assert.equal(proxied.message, 'GET /elsewhere: 502 Bad Gateway: <html>bad gateway</html>');
    } finally {
      await s.close();
    }
  });

  it('answers a GET of an object that is not there with undefined, and still throws any other error', async () => {
    const s = await serve((req, res) =>
      req.url === '/there'
        ? json(res, 200, { metadata: { name: 'there' } })
        : req.url === '/gone'
          ? json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'not found', code: 404 })
          : json(res, 403, { kind: 'Status', reason: 'Forbidden', message: 'forbidden', code: 403 }),
    );
    try {
      assert.deepEqual(await s.http.getIfExists('/there'), { metadata: { name: 'there' } });
      assert.equal(await s.http.getIfExists('/gone'), undefined);
      await assert.rejects(s.http.getIfExists('/secret'), (e: unknown) => isKubeStatus(e, 403));
    } finally {
      await s.close();
    }
  });

  it('fails a request to a server that never answers at its deadline', async () => {
    const s = await serve(() => undefined);
    try {
      const started = performance.now();
      await assert.rejects(s.http.request('GET', '/api'), /abort|timeout/i);
      assert.ok(performance.now() - started < 5_000, 'failed at the 500 ms deadline');
      assert.ok(KUBE_REQUEST_TIMEOUT_MS >= 10_000, 'the default is long enough for a page of 500 objects');
    } finally {
      await s.close();
    }
  });

  it('splits a watch stream into events wherever its chunks break, and resolves when the server ends it', async () => {
    const events = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } },
    ];
    let url = '';
    const s = await serve((req, res) => {
      url = req.url ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      const cut = [0, 7, 30, 31, text.length - 1, text.length];
      let i = 0;
      const next = () => {
        if (i + 1 >= cut.length) return res.end();
        res.write(text.slice(cut[i], cut[i + 1]));
        i++;
        setImmediate(next);
      };
      next();
    });
    try {
      const got: WatchEvent[] = [];
      let connected = 0;
      await s.http.watch(
        '/api/v1/pods',
        { resourceVersion: '1', labelSelector: 'a=b' },
        { onEvent: (e) => got.push(e), onConnected: () => connected++ },
        new AbortController().signal,
        5_000,
      );
      assert.deepEqual(got, events);
      assert.equal(connected, 1);
      assert.equal(url, '/api/v1/pods?resourceVersion=1&labelSelector=a%3Db&watch=true');
    } finally {
      await s.close();
    }
  });

  it('fails a watch that stays silent longer than its idle limit, and one the server refuses', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/gone'))
        return json(res, 410, { kind: 'Status', reason: 'Expired', message: 'too old resource version', code: 410 });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('');
    });
    try {
      const handlers = { onEvent: () => undefined, onConnected: () => undefined };
      await assert.rejects(s.http.watch('/silent', {}, handlers, new AbortController().signal, 200), /silent for 200 ms/);
      await assert.rejects(s.http.watch('/gone', {}, handlers, new AbortController().signal, 200), (e: unknown) => isKubeStatus(e, 410));
    } finally {
      await s.close();
    }
  });
});

describe('withQuery', () => {
  it('leaves out undefined values and encodes the rest', () => {
    assert.equal(withQuery('/p'), '/p');
    assert.equal(withQuery('/p', { a: undefined }), '/p');
    assert.equal(
      withQuery('/p', { fieldSelector: 'spec.serviceAccountName=x', force: true, limit: 0 }),
      '/p?fieldSelector=spec.serviceAccountName%3Dx&force=true&limit=0',
    );
  });
});
