// The operator's Kubernetes transport: JSON over node:http(s) on one keep-alive connection pool.
// @kubernetes/client-node's KubeConfig still does what is hard: it reads the kubeconfig or the
// in-cluster ServiceAccount, and gives each request its CA, client certificate and bearer token
// (a token file it re-reads, an exec plugin, OIDC) through applyToHTTPSOptions. Its generated API
// clients and their fetch layer (undici) are not used: they took about 40 MB of the operator's
// RSS and a fifth of its CPU (docs/benchmarks.md), for the dozen paths the operator calls.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** How long one Kubernetes API request (not a watch) may take before it is aborted. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;

export type Query = Record<string, string | number | boolean | undefined>;

export const MERGE_PATCH = 'application/merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** A request the API server answered with an error status (its Status object, when it sent one). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  /** The Status reason: NotFound, Conflict, AlreadyExists, Invalid, ... */
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }

  /** From a response's status code and body (a Status object, or whatever a proxy sent). */
  static fromResponse(method: string, path: string, code: number, body: string): KubeApiError {
    const status = parseStatus(body);
    const reason = status?.reason ?? http.STATUS_CODES[code] ?? 'Unknown';
    const detail = status?.message ?? (body.trim().slice(0, 200) || http.STATUS_CODES[code] || 'no body');
    return new KubeApiError(code, reason, `${method} ${path}: ${code} ${reason}: ${detail}`);
  }
}

interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
}

function parseStatus(body: string): StatusBody | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && (parsed as { kind?: unknown }).kind === 'Status' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** True when `e` is the API server's answer with this HTTP status code. */
export function isKubeStatus(e: unknown, code: number): boolean {
  return e instanceof KubeApiError && e.code === code;
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Content-Type of the body: JSON unless a patch type is given. */
  contentType?: string;
}

/** One watch event as the API server sends it, a JSON object per line. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export class KubeHttp {
  private readonly kc: KubeConfig;
  private readonly requestTimeoutMs: number;
  // One pool per scheme. Node keys its idle sockets by the TLS options of each request (CA, client
  // certificate, key, server name), so a rotated certificate gets new connections by itself.
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly httpAgent = new http.Agent({ keepAlive: true });

  constructor(kc: KubeConfig, requestTimeoutMs = KUBE_REQUEST_TIMEOUT_MS) {
    this.kc = kc;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /** A JSON request; resolves to the parsed response, rejects with KubeApiError on an error status. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = withQuery(path, opts.query);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const res = await this.send(method, url, headers, payload, AbortSignal.timeout(this.requestTimeoutMs));
    const body = await readBody(res);
    if ((res.statusCode ?? 0) >= 400) throw KubeApiError.fromResponse(method, path, res.statusCode ?? 0, body);
    return JSON.parse(body) as T;
  }

  /** A GET; undefined when the API server answers 404 (the object is not there). */
  async getIfExists<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (e) {
      if (isKubeStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /**
   * A watch: calls onEvent for every event until the server ends the stream (resolves) or the
   * connection fails (rejects). `onConnected` runs once the server has answered 200. A connection
   * silent for longer than idleMs is closed as failed: the server sends at least a bookmark before
   * its own timeoutSeconds.
   */
  async watch(
    path: string,
    query: Query,
    handlers: { onEvent: (e: WatchEvent) => void; onConnected: () => void },
    signal: AbortSignal,
    idleMs: number,
  ): Promise<void> {
    const res = await this.send('GET', withQuery(path, { ...query, watch: true }), { Accept: 'application/json' }, undefined, signal);
    if ((res.statusCode ?? 0) >= 400) throw KubeApiError.fromResponse('GET', path, res.statusCode ?? 0, await readBody(res));
    handlers.onConnected();
    res.setEncoding('utf8');
    const socket = res.socket;
    const silent = () => res.destroy(new Error(`watch of ${path} silent for ${idleMs} ms`));
    socket.setTimeout(idleMs, silent);
    let partial = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) !== -1) {
          const line = partial.slice(0, nl).trim();
          partial = partial.slice(nl + 1);
          if (line) handlers.onEvent(JSON.parse(line) as WatchEvent);
        }
      }
    } finally {
      socket.setTimeout(0, silent); // the socket may go back to the pool
    }
  }

  private async send(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    payload: string | undefined,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const base = new URL(cluster.server);
    const secure = base.protocol === 'https:';
    // A proxy-url from the kubeconfig needs the proxying agent KubeConfig built; else the pool.
    const agent = cluster.proxyUrl ? opts.agent : secure ? this.httpsAgent : this.httpAgent;
    const request = (secure ? https : http).request;
    const basePath = base.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...opts,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: basePath + pathAndQuery,
          method,
          agent,
          signal,
          headers: {
            ...(opts.headers as Record<string, string> | undefined),
            ...headers,
            ...(payload === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(payload)) }),
          },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes the idle pooled connections (on shutdown). */
  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let body = '';
  for await (const chunk of res as AsyncIterable<string>) body += chunk;
  return body;
}
