// A loopback HTTP proxy in front of moto that records every AWS call (service and operation), so
// tests can count what the operator asked of IAM without trusting the operator's own metrics.
// The log is served at GET /__proxy/calls, so a test in another process can read it too.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsCall {
  service: string;
  operation: string;
  status: number;
}

export const CALLS_PATH = '/__proxy/calls';

/** The call log of a proxy, read over HTTP. */
export async function fetchCalls(proxyUrl: string): Promise<AwsCall[]> {
  const res = await fetch(`${proxyUrl}${CALLS_PATH}`);
  return (await res.json()) as AwsCall[];
}

const READ_PREFIXES = ['Get', 'List', 'Describe'];
export const isWrite = (c: AwsCall): boolean => !READ_PREFIXES.some((p) => c.operation.startsWith(p));

function serviceOf(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? '';
  const m = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth);
  return m?.[1] ?? 'unknown';
}

function operationOf(service: string, req: IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? target;
  const action = new URLSearchParams(body).get('Action');
  if (action) return action;
  if (service === 'eks') {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && /^\/clusters\/[^/]+$/.test(path)) return 'DescribeCluster';
    if (req.method === 'POST' && path === '/clusters') return 'CreateCluster';
  }
  return `${req.method ?? 'GET'} ${req.url ?? ''}`;
}

export class AwsProxy {
  readonly calls: AwsCall[] = [];
  private server: Server | undefined;
  private readonly target: URL;

  constructor(targetUrl: string) {
    this.target = new URL(targetUrl);
  }

  get url(): string {
    const port = (this.server?.address() as AddressInfo | null)?.port ?? 0;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === CALLS_PATH) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(this.calls));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const service = serviceOf(req);
        const operation = operationOf(service, req, body.toString('utf8'));
        const upstream = request(
          { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } },
          (up) => {
            this.calls.push({ service, operation, status: up.statusCode ?? 0 });
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', (e) => {
          this.calls.push({ service, operation, status: 502 });
          res.writeHead(502).end(String(e));
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
