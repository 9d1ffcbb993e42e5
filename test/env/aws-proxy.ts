// A loopback HTTP proxy in front of moto that records every AWS call (service and operation), so
// tests can count what the operator asked of IAM without trusting the operator's own metrics.
// The log is served at GET /__proxy/calls, so a test in another process can read it too.
// It can also inject faults (throttling, 500s, ConcurrentModification, dropped connections,
// delays) by rules set over HTTP: POST /__proxy/faults {rules: [...]}, DELETE /__proxy/faults
// (no rules), GET /__proxy/faults (the rules and how many faults were injected, by kind).
// EKS Pod Identity association calls, which moto lacks, are answered by a PodIdentityStore
// (./pod-identity-store.ts) when one is given; faults apply to them as to any call.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PodIdentityStore, StoreAnswer } from './pod-identity-store.ts';

export interface AwsCall {
  service: string;
  operation: string;
  /** The account the call acts in, when it is not the default one: learnt from AssumeRole (its RoleArn, the keys it answered). */
  account?: string;
  status: number;
  /** Set when the proxy injected a fault instead of (or, for delay and a late drop, before) moto's answer. */
  fault?: FaultKind;
}

export const CALLS_PATH = '/__proxy/calls';
export const FAULTS_PATH = '/__proxy/faults';

export const FAULT_KINDS = ['throttle', '500', 'drop', 'delay', 'concurrent-modification', 'access-denied'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  /** Signing name of the service (iam, sts, eks); any when unset. */
  service?: string;
  /** Operation name (CreateRole, GetRole, ...); any when unset. */
  operation?: string;
  /** Only calls acting in this account (AssumeRole into it, and calls signed with the keys it answered); any when unset. */
  account?: string;
  /** Chance in [0, 1] that a matching call gets this fault; the first rule that fires wins. */
  probability: number;
  kind: FaultKind;
  /** delay: how long to hold the call before forwarding it (default 500 ms). */
  delayMs?: number;
  /** drop: 'request' destroys the socket before moto sees the call (default); 'response' after moto did it. */
  phase?: 'request' | 'response';
}

export interface FaultState {
  rules: FaultRule[];
  injected: number;
  byKind: Record<FaultKind, number>;
}

/** Replaces the proxy's fault rules. */
export async function setFaults(proxyUrl: string, rules: FaultRule[]): Promise<void> {
  const res = await fetch(`${proxyUrl}${FAULTS_PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  if (!res.ok) throw new Error(`setting fault rules failed: ${res.status} ${await res.text()}`);
}

/** Removes every fault rule (the counts stay). */
export async function clearFaults(proxyUrl: string): Promise<void> {
  const res = await fetch(`${proxyUrl}${FAULTS_PATH}`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`clearing fault rules failed: ${res.status}`);
}

/** The rules in force and the faults injected so far. */
export async function fetchFaults(proxyUrl: string): Promise<FaultState> {
  const res = await fetch(`${proxyUrl}${FAULTS_PATH}`);
  return (await res.json()) as FaultState;
}

/**
 * moto's answer without its hop-by-hop headers (RFC 9110 7.6.1): moto closes every connection
 * (`Connection: close`), and passing that on would make every client open a new connection per
 * call, which real AWS endpoints do not. The proxy keeps the client's connection alive.
 */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const hopByHop = new Set(['connection', 'keep-alive', ...(headers.connection ?? '').split(',').map((n) => n.trim().toLowerCase())]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name)));
}

function parseRules(body: string): FaultRule[] {
  const parsed = JSON.parse(body) as { rules?: unknown };
  if (!Array.isArray(parsed.rules)) throw new Error('expected {rules: [...]}');
  return parsed.rules.map((r: unknown, i) => {
    const rule = r as Partial<FaultRule>;
    if (typeof rule.probability !== 'number' || rule.probability < 0 || rule.probability > 1)
      throw new Error(`rules[${i}].probability must be a number in [0, 1]`);
    if (!FAULT_KINDS.includes(rule.kind as FaultKind)) throw new Error(`rules[${i}].kind must be one of ${FAULT_KINDS.join(', ')}`);
    for (const k of ['service', 'operation', 'account'] as const) {
      if (rule[k] !== undefined && typeof rule[k] !== 'string') throw new Error(`rules[${i}].${k} must be a string`);
    }
    if (rule.delayMs !== undefined && (typeof rule.delayMs !== 'number' || rule.delayMs < 0))
      throw new Error(`rules[${i}].delayMs must be a number >= 0`);
    if (rule.phase !== undefined && rule.phase !== 'request' && rule.phase !== 'response')
      throw new Error(`rules[${i}].phase must be request or response`);
    return rule as FaultRule;
  });
}

/** IAM and STS speak the query protocol (XML errors); EKS speaks REST-JSON. */
function sendError(res: ServerResponse, service: string, status: number, type: 'Sender' | 'Receiver', code: string, message: string): void {
  if (service === 'eks') {
    res
      .writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': code, 'x-amzn-RequestId': 'x' })
      .end(JSON.stringify({ message }));
    return;
  }
  const body = `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>x</RequestId></ErrorResponse>`;
  res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': 'x' }).end(body);
}

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

function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/** The account of the role an AssumeRole request names. */
function roleAccount(body: string): string | undefined {
  return /^arn:[^:]+:iam::([0-9]{12}):/.exec(new URLSearchParams(body).get('RoleArn') ?? '')?.[1];
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
  private rules: FaultRule[] = [];
  private readonly injected: Record<FaultKind, number> = {
    throttle: 0,
    '500': 0,
    drop: 0,
    delay: 0,
    'concurrent-modification': 0,
    'access-denied': 0,
  };
  /** Access key -> the account of the role AssumeRole answered it for. */
  private readonly keyAccounts = new Map<string, string>();
  private server: Server | undefined;
  private readonly target: URL;
  private readonly random: () => number;
  /** Answers EKS's Pod Identity association calls (moto has none). */
  readonly podIdentity: PodIdentityStore | undefined;

  constructor(targetUrl: string, random: () => number = Math.random, podIdentity?: PodIdentityStore) {
    this.target = new URL(targetUrl);
    this.random = random;
    this.podIdentity = podIdentity;
  }

  /** A Pod Identity association call, answered by the store. */
  private answerFromStore(
    req: IncomingMessage,
    res: ServerResponse,
    call: {
      body: string;
      service: string;
      operation: string;
      /** The account the request's credentials act in, when not the environment's own. */
      at: { account?: string };
      fault?: FaultKind | undefined;
      dropAnswer: boolean;
    },
  ): void {
    const { body, service, operation, at, fault } = call;
    const store = this.podIdentity;
    if (!store) return;
    store.handle({ method: req.method ?? 'GET', url: req.url ?? '/', body }).then(
      (answer: StoreAnswer) => {
        if (call.dropAnswer) {
          this.calls.push({ service, operation, ...at, status: 0, fault: 'drop' });
          req.socket.destroy();
          return;
        }
        this.calls.push({ service, operation, ...at, status: answer.status, ...(fault ? { fault } : {}) });
        const headers = { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'pod-identity-store' };
        res
          .writeHead(answer.status, answer.errorType ? { ...headers, 'x-amzn-ErrorType': answer.errorType } : headers)
          .end(JSON.stringify(answer.body));
      },
      (e: unknown) => {
        this.calls.push({ service, operation, ...at, status: 500 });
        sendError(res, service, 500, 'Receiver', 'ServerException', e instanceof Error ? e.message : String(e));
      },
    );
  }

  /** Replaces the fault rules (also settable over HTTP at FAULTS_PATH). */
  setFaults(rules: FaultRule[]): void {
    this.rules = [...rules];
  }

  get faults(): FaultState {
    return { rules: this.rules, injected: Object.values(this.injected).reduce((a, b) => a + b, 0), byKind: { ...this.injected } };
  }

  private pickFault(service: string, operation: string, account: string | undefined): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.service !== undefined && r.service !== service) continue;
      if (r.operation !== undefined && r.operation !== operation) continue;
      if (r.account !== undefined && r.account !== account) continue;
      if (this.random() < r.probability) return r;
    }
    return undefined;
  }

  private serveFaults(req: IncomingMessage, res: ServerResponse): void {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET') {
      json(200, this.faults);
    } else if (req.method === 'DELETE') {
      this.rules = [];
      json(200, this.faults);
    } else if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.rules = parseRules(Buffer.concat(chunks).toString('utf8'));
          json(200, this.faults);
        } catch (e) {
          json(400, { error: e instanceof Error ? e.message : String(e) });
        }
      });
    } else {
      res.writeHead(405).end();
    }
  }

  /** The access key an AssumeRole answer holds acts in `account` from now on. */
  private learnKey(up: IncomingMessage, account: string): void {
    let xml = '';
    up.on('data', (c: Buffer) => (xml += c.toString('utf8')));
    up.on('end', () => {
      const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
      if (key !== undefined) this.keyAccounts.set(key, account);
    });
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
      if (req.url === FAULTS_PATH) {
        this.serveFaults(req, res);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const service = serviceOf(req);
        const text = body.toString('utf8');
        const routed = service === 'eks' ? this.podIdentity?.route(req.method ?? 'GET', req.url ?? '/') : undefined;
        const operation = routed?.operation ?? operationOf(service, req, text);
        const assumed = service === 'sts' && operation === 'AssumeRole' ? roleAccount(text) : undefined;
        const account = assumed ?? this.keyAccounts.get(accessKeyOf(req) ?? '');
        const fault = this.pickFault(service, operation, account);
        const at = account === undefined ? {} : { account };
        if (fault) this.injected[fault.kind]++;
        const forward = (dropAnswer: boolean) => {
          if (routed) {
            this.answerFromStore(req, res, { body: text, service, operation, at, fault: fault?.kind, dropAnswer });
            return;
          }
          const upstream = request(
            {
              host: this.target.hostname,
              port: this.target.port,
              method: req.method,
              path: req.url,
              headers: { ...req.headers, host: this.target.host },
            },
            (up) => {
              if (dropAnswer) {
                this.calls.push({ service, operation, ...at, status: 0, fault: 'drop' });
                up.resume();
                req.socket.destroy();
                return;
              }
              this.calls.push({ service, operation, ...at, status: up.statusCode ?? 0, ...(fault ? { fault: fault.kind } : {}) });
              res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
              if (assumed !== undefined) this.learnKey(up, assumed);
              up.pipe(res);
            },
          );
          upstream.on('error', (e) => {
            this.calls.push({ service, operation, ...at, status: 502 });
            if (dropAnswer) req.socket.destroy();
            else res.writeHead(502).end(String(e));
          });
          upstream.end(body);
        };
        switch (fault?.kind) {
          case undefined:
            forward(false);
            return;
          case 'throttle':
            this.calls.push({ service, operation, ...at, status: 400, fault: fault.kind });
            sendError(res, service, 400, 'Sender', service === 'eks' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded');
            return;
          case '500':
            this.calls.push({ service, operation, ...at, status: 500, fault: fault.kind });
            sendError(
              res,
              service,
              500,
              'Receiver',
              service === 'iam' ? 'ServiceFailure' : service === 'eks' ? 'ServerException' : 'InternalFailure',
              'We encountered an internal error. Please try again.',
            );
            return;
          case 'access-denied':
            this.calls.push({ service, operation, ...at, status: 403, fault: fault.kind });
            sendError(
              res,
              service,
              403,
              'Sender',
              'AccessDenied',
              `not authorized to perform ${service}:${operation} in account ${account ?? 'default'}`,
            );
            return;
          case 'concurrent-modification':
            this.calls.push({ service, operation, ...at, status: 409, fault: fault.kind });
            sendError(
              res,
              service,
              409,
              'Sender',
              service === 'eks' ? 'ResourceInUseException' : 'ConcurrentModification',
              'Rate exceeded for concurrent modifications; please retry',
            );
            return;
          case 'drop':
            if (fault.phase === 'response') {
              forward(true);
            } else {
              this.calls.push({ service, operation, ...at, status: 0, fault: fault.kind });
              req.socket.destroy();
            }
            return;
          case 'delay': {
            const timer = setTimeout(() => forward(false), fault.delayMs ?? 500);
            res.once('close', () => clearTimeout(timer));
            return;
          }
        }
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
