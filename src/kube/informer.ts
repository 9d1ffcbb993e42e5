// An informer that keeps itself alive. @kubernetes/client-node's ListWatch stops for good on any
// watch or list error other than 410; this restarts it with backoff (1 s doubling to 30 s, reset
// once a watch is connected again) and says when it has synced. Lists are read in pages, and
// objects are cached without their bookkeeping fields (slim.ts).
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { withoutBookkeeping } from './slim.ts';

/** One page of a list call: at most `limit` items, from where `continueToken` says. */
export type ListPage<T extends KubernetesObject> = (page: {
  limit: number;
  continueToken: string | undefined;
}) => Promise<KubernetesListObject<T>>;

export const LIST_PAGE_SIZE = 500;

/**
 * Lists in pages of LIST_PAGE_SIZE, each slimmed before the next is read, so that a restart at
 * 10,000 objects never holds one response of all of them. The pages are one consistent snapshot;
 * the result carries the resourceVersion to watch from.
 */
export async function listAllPages<T extends KubernetesObject>(listPage: ListPage<T>): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let continueToken: string | undefined;
  for (;;) {
    const page = await listPage({ limit: LIST_PAGE_SIZE, continueToken });
    for (const item of page.items) items.push(withoutBookkeeping(item));
    continueToken = page.metadata?._continue || undefined;
    if (!continueToken) return { ...page, items };
  }
}

export interface InformerHandlers<T> {
  onChange: (obj: T) => void;
  onDelete: (obj: T) => void;
  onRestart?: (err: unknown, delayMs: number) => void;
}

export const INFORMER_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const;

/**
 * A Watch whose events carry objects without bookkeeping fields, so the cache never holds them,
 * and that says when a watch request was answered (HTTP 200): Watch.watch resolves after the
 * response, and has already called `done` when the request failed.
 */
class SlimWatch extends Watch {
  private readonly onConnected: () => void;

  constructor(kc: KubeConfig, onConnected: () => void) {
    super(kc);
    this.onConnected = onConnected;
  }

  override async watch(...[path, queryParams, callback, done]: Parameters<Watch['watch']>): Promise<AbortController> {
    const request = { ended: false };
    const controller = await super.watch(
      path,
      queryParams,
      (phase: string, obj: KubernetesObject, watchObj?: unknown) => callback(phase, withoutBookkeeping(obj), watchObj),
      (err: unknown) => {
        request.ended = true;
        done(err);
      },
    );
    if (!request.ended) this.onConnected();
    return controller;
  }
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stopped = true;
  private restartDelayMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private syncedOnce = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly handlers: InformerHandlers<T>;

  constructor(kc: KubeConfig, path: string, list: ListPage<T>, handlers: InformerHandlers<T>, labelSelector?: string) {
    this.handlers = handlers;
    const watch = new SlimWatch(kc, () => (this.restartDelayMs = 0));
    this.informer = new ListWatch<T>(path, watch, () => listAllPages(list), false, labelSelector);
    this.informer.on('add', (o) => handlers.onChange(o));
    this.informer.on('update', (o) => handlers.onChange(o));
    this.informer.on('delete', (o) => handlers.onDelete(o));
    this.informer.on('error', (err: unknown) => this.restartLater(err));
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

  /** Cached objects, of one namespace when given (read from its own map, not filtered). */
  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.informer.stop();
  }
}
