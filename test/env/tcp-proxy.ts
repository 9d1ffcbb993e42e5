// A loopback TCP proxy in front of the apiserver, so that a test can cut one client (the operator)
// off while the others (kubectl, the test) keep talking to the apiserver directly. TLS passes
// through untouched: the apiserver's certificate names 127.0.0.1, so it verifies on any port.
// While down, it resets every connection it has and every new one.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly targetPort: number;
  private readonly targetHost: string;
  private downUntil = 0;
  private downTimer: NodeJS.Timeout | undefined;
  /** Connections refused or cut while down. */
  resets = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.targetPort = targetPort;
    this.targetHost = targetHost;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get isDown(): boolean {
    return this.downUntil > Date.now();
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      if (this.isDown) {
        this.resets++;
        client.resetAndDestroy();
        return;
      }
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      this.track(client);
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  /** Cuts every connection and refuses new ones for `ms`; resolves when the proxy is up again. */
  async downFor(ms: number): Promise<void> {
    this.downUntil = Date.now() + ms;
    for (const s of this.sockets) {
      this.resets++;
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.sockets.clear();
    clearTimeout(this.downTimer);
    // This sleep is the fault itself (the outage), not a synchronisation.
    await new Promise<void>((resolve) => {
      this.downTimer = setTimeout(resolve, ms);
    });
    this.downUntil = 0;
  }

  /** Writes a copy of a kubeconfig (as the test environment writes it: JSON) whose server is this proxy. */
  static kubeconfigThrough(kubeconfigJson: string, port: number): string {
    const kc = JSON.parse(kubeconfigJson) as { clusters: { cluster: { server: string } }[] };
    for (const c of kc.clusters) {
      const url = new URL(c.cluster.server);
      url.port = String(port);
      c.cluster.server = url.origin;
    }
    return JSON.stringify(kc);
  }

  async stop(): Promise<void> {
    clearTimeout(this.downTimer);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
