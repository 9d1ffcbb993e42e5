// An informer in the manner of client-go's reflector: list in pages, then watch from the list's
// resourceVersion, keeping a cache of the objects without their bookkeeping fields (slim.ts).
// A watch the server ends is resumed at once from the last resourceVersion seen (bookmarks
// included); an expired one (410 Gone) is replaced by a fresh list; any other failure is retried
// with backoff (1 s doubling to 30 s, reset once a watch is connected again).
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { isKubeStatus, KubeApiError, type KubeHttp, type WatchEvent } from './http.ts';
import { StringPool } from '../strings.ts';
import { withoutBookkeeping } from './slim.ts';

/** One page of a list call: at most `limit` items, from where `continueToken` says. */
export type ListPage<T extends KubernetesObject> = (page: {
  limit: number;
  continueToken: string | undefined;
}) => Promise<KubernetesListObject<T>>;

export const LIST_PAGE_SIZE = 500;

/** Shared by every informer of the process: they cache the same namespaces, kinds and ARNs. */
const CACHED_STRINGS = new StringPool();

/** What a cache keeps of each object of one kind beyond the common slimming, when it keeps less. */
export type Keep<T> = (obj: T) => T;

/**
 * What a cache keeps of an object: no bookkeeping fields, what `keep` leaves of the rest, and the
 * strings many objects repeat shared.
 */
function cachedForm<T extends KubernetesObject>(obj: T, keep: Keep<T> | undefined): T {
  const slim = withoutBookkeeping(obj);
  return CACHED_STRINGS.share(keep ? keep(slim) : slim);
}

/**
 * Lists in pages of LIST_PAGE_SIZE, each slimmed before the next is read, so that a restart at
 * 10,000 objects never holds one response of all of them. The pages are one consistent snapshot;
 * the result carries the resourceVersion to watch from.
 */
export async function listAllPages<T extends KubernetesObject>(listPage: ListPage<T>, keep?: Keep<T>): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let continueToken: string | undefined;
  for (;;) {
    const page = await listPage({ limit: LIST_PAGE_SIZE, continueToken });
    for (const item of page.items) items.push(cachedForm(item, keep));
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

/** A watch asks the server to end it after 5-10 minutes (client-go's range), and is resumed then. */
const WATCH_TIMEOUT_SECONDS = { min: 300, max: 600 } as const;

export class ResilientInformer<T extends KubernetesObject> {
  private readonly http: KubeHttp;
  private readonly path: string;
  private readonly listPage: ListPage<T>;
  private readonly handlers: InformerHandlers<T>;
  private readonly labelSelector: string | undefined;
  private readonly keep: Keep<T> | undefined;
  /** namespace -> name -> object ('' for cluster-scoped objects). */
  private readonly cache = new Map<string, Map<string, T>>();
  /** Where the next watch starts; '' means a list is needed first. */
  private resourceVersion = '';
  private stopped = true;
  private restartDelayMs = 0;
  private watchAbort: AbortController | undefined;
  private wakeUp: (() => void) | undefined;
  private syncedOnce = false;
  private readonly syncWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;

  constructor(
    http: KubeHttp,
    path: string,
    list: ListPage<T>,
    handlers: InformerHandlers<T>,
    opts: { labelSelector?: string | undefined; keep?: Keep<T> | undefined } = {},
  ) {
    this.http = http;
    this.path = path;
    this.listPage = list;
    this.handlers = handlers;
    this.labelSelector = opts.labelSelector;
    this.keep = opts.keep;
  }

  /** Starts listing and watching; resolves once the first list has succeeded. */
  async start(): Promise<void> {
    this.stopped = false;
    const synced = this.syncedOnce ? Promise.resolve() : new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    this.loop = this.run();
    await synced;
  }

  private async run(): Promise<void> {
    while (this.running()) {
      try {
        if (this.resourceVersion === '') await this.relist();
        await this.watchOnce();
      } catch (err) {
        if (!this.running()) return;
        if (isKubeStatus(err, 410)) {
          this.resourceVersion = ''; // expired: list again at once
          continue;
        }
        this.restartDelayMs = Math.min(
          this.restartDelayMs === 0 ? INFORMER_BACKOFF.baseMs : this.restartDelayMs * 2,
          INFORMER_BACKOFF.maxMs,
        );
        this.handlers.onRestart?.(err, this.restartDelayMs);
        await this.sleep(this.restartDelayMs);
      }
    }
  }

  /** Replaces the cache with a fresh list; tells the handlers what was added, changed or removed. */
  private async relist(): Promise<void> {
    const list = await listAllPages(this.listPage, this.keep);
    const before = this.cache;
    const after = new Map<string, Map<string, T>>();
    const changed: T[] = [];
    for (const obj of list.items) {
      const [ns, name] = put(after, obj);
      const old = before.get(ns)?.get(name);
      if (!old || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) changed.push(obj);
    }
    const removed: T[] = [];
    for (const [ns, names] of before) for (const [name, obj] of names) if (!after.get(ns)?.has(name)) removed.push(obj);
    this.cache.clear();
    for (const [ns, names] of after) this.cache.set(ns, names);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    for (const obj of changed) this.handlers.onChange(obj);
    for (const obj of removed) this.handlers.onDelete(obj);
  }

  private async watchOnce(): Promise<void> {
    const range = WATCH_TIMEOUT_SECONDS.max - WATCH_TIMEOUT_SECONDS.min;
    const timeoutSeconds = WATCH_TIMEOUT_SECONDS.min + Math.floor(Math.random() * range);
    const abort = (this.watchAbort = new AbortController());
    try {
      await this.http.watch(
        this.path,
        { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector: this.labelSelector, timeoutSeconds },
        { onEvent: (e) => this.apply(e), onConnected: () => (this.restartDelayMs = 0) },
        abort.signal,
        (timeoutSeconds + 60) * 1000,
      );
    } finally {
      this.watchAbort = undefined;
    }
  }

  private apply(e: WatchEvent): void {
    if (e.type === 'ERROR') {
      const status = e.object as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(status.code ?? 500, status.reason ?? 'Unknown', `watch of ${this.path}: ${status.message ?? 'error event'}`);
    }
    const obj = e.object as T;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const slim = cachedForm(obj, this.keep);
    if (e.type === 'DELETED') {
      const [ns, name] = keyOf(slim);
      this.cache.get(ns)?.delete(name);
      this.handlers.onDelete(slim);
      return;
    }
    put(this.cache, slim);
    this.handlers.onChange(slim);
  }

  private running(): boolean {
    return !this.stopped;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  get(name: string, namespace: string): T | undefined {
    return this.cache.get(namespace)?.get(name);
  }

  /** The cached objects of one namespace, without a copy: to be read at once, not kept. */
  each(namespace: string): Iterable<T> {
    return this.cache.get(namespace)?.values() ?? [];
  }

  /** Cached objects, of one namespace when given (read from its own map, not filtered). */
  list(namespace?: string): readonly T[] {
    if (namespace !== undefined) return [...this.each(namespace)];
    return [...this.cache.values()].flatMap((names) => [...names.values()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchAbort?.abort();
    this.wakeUp?.();
    await this.loop;
  }
}

function keyOf(obj: KubernetesObject): [string, string] {
  return [obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''];
}

/** Puts `obj` into a namespace -> name -> object cache; returns its key. */
function put<T extends KubernetesObject>(cache: Map<string, Map<string, T>>, obj: T): [string, string] {
  const [ns, name] = keyOf(obj);
  let names = cache.get(ns);
  if (!names) cache.set(ns, (names = new Map<string, T>()));
  names.set(name, obj);
  return [ns, name];
}
