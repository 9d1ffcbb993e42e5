// An informer that keeps itself alive. @kubernetes/client-node's ListWatch stops for good on any
// watch or list error other than 410; this restarts it with backoff (1 s doubling to 30 s, reset
// once it lists again) and says when it has synced.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface InformerHandlers<T> {
  onChange: (obj: T) => void;
  onDelete: (obj: T) => void;
  onRestart?: (err: unknown, delayMs: number) => void;
}

export const INFORMER_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const;

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stopped = true;
  private restartDelayMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private syncedOnce = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly handlers: InformerHandlers<T>;

  constructor(kc: KubeConfig, path: string, list: () => Promise<KubernetesListObject<T>>, handlers: InformerHandlers<T>, labelSelector?: string) {
    this.handlers = handlers;
    this.informer = new ListWatch<T>(path, new Watch(kc), list, false, labelSelector);
    this.informer.on('add', (o) => handlers.onChange(o));
    this.informer.on('update', (o) => handlers.onChange(o));
    this.informer.on('delete', (o) => handlers.onDelete(o));
    this.informer.on('error', (err: unknown) => this.restartLater(err));
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  /** Starts watching; resolves once the first list has succeeded. */
  async start(): Promise<void> {
    this.stopped = false;
    const synced = new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    await this.run();
    await synced;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    await this.informer.start();
    if (this.informer.latestResourceVersion() !== '') {
      this.restartDelayMs = 0;
      if (!this.syncedOnce) {
        this.syncedOnce = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
    }
  }

  private restartLater(err: unknown): void {
    if (this.stopped || this.timer) return;
    this.restartDelayMs = Math.min(this.restartDelayMs === 0 ? INFORMER_BACKOFF.baseMs : this.restartDelayMs * 2, INFORMER_BACKOFF.maxMs);
    this.handlers.onRestart?.(err, this.restartDelayMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.restartDelayMs);
  }

  get(name: string, namespace: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.informer.stop();
  }
}
