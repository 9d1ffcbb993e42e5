// Makes the informers of one controller: for each watched resource, one informer per watched
// namespace (or a single one for all namespaces), started and stopped together. Each resource
// gets back a typed cache handle; handlers only enqueue keys.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeHttp } from './http.ts';
import { ResilientInformer, type InformerHandlers, type Keep, type ListPage } from './informer.ts';

/** A resource to watch. `namespace` is '' for all namespaces. */
export interface WatchSource<T extends KubernetesObject> {
  /** Plural name, for logs and metrics. */
  resource: string;
  path: (namespace: string) => string;
  list: (http: KubeHttp, namespace: string) => ListPage<T>;
  labelSelector?: string;
  /** What the cache keeps of each object beyond the common slimming (informer.ts), if less. */
  keep?: Keep<T>;
}

export interface InformerCache<T> {
  get(namespace: string, name: string): T | undefined;
  /** Cached objects of one namespace, or of all. */
  list(namespace?: string): readonly T[];
  /** The cached objects of one namespace, without a copy: to be read at once, not kept. */
  each(namespace: string): Iterable<T>;
}

export type RestartObserver = (resource: string, err: unknown, delayMs: number) => void;

export class InformerFactory {
  private readonly http: KubeHttp;
  /** Watched namespaces; [''] for all. */
  private readonly namespaces: readonly string[];
  private readonly onRestart: RestartObserver;
  private readonly informers: { start(): Promise<void>; stop(): Promise<void> }[] = [];

  constructor(http: KubeHttp, namespaces: readonly string[], onRestart: RestartObserver) {
    this.http = http;
    this.namespaces = namespaces.length > 0 ? namespaces : [''];
    this.onRestart = onRestart;
  }

  watch<T extends KubernetesObject>(source: WatchSource<T>, handlers: Omit<InformerHandlers<T>, 'onRestart'>): InformerCache<T> {
    const byNamespace = new Map<string, ResilientInformer<T>>();
    for (const ns of this.namespaces) {
      const onRestart = (err: unknown, delayMs: number) => this.onRestart(source.resource, err, delayMs);
      const informer = new ResilientInformer<T>(
        this.http,
        source.path(ns),
        source.list(this.http, ns),
        { ...handlers, onRestart },
        { labelSelector: source.labelSelector, keep: source.keep },
      );
      byNamespace.set(ns, informer);
      this.informers.push(informer);
    }
    const all = this.namespaces.length === 1 && this.namespaces[0] === '';
    const of = (ns: string) => byNamespace.get(all ? '' : ns);
    return {
      get: (ns, name) => of(ns)?.get(name, ns),
      list: (ns) => (ns === undefined ? [...byNamespace.values()].flatMap((i) => i.list()) : (of(ns)?.list(ns) ?? [])),
      each: (ns) => of(ns)?.each(ns) ?? [],
    };
  }

  /** Starts every informer; resolves once each has listed. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
