// What the benchmark measures with, shared by its full run and by `--compare`: a process's RSS and
// CPU from /proc, a watch that restarts itself, creates at a steady rate, percentiles.
import { readFileSync } from 'node:fs';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { AwsCall } from '../env/aws-proxy.ts';

/** Requests the benchmark's client keeps in flight at most. */
export const MAX_IN_FLIGHT = 64;

/** The p-th percentile (nearest rank) of an ascending array; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const byOp = (calls: AwsCall[]) =>
  calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c.operation]: (m[c.operation] ?? 0) + 1 }), {});

export interface ProcSample {
  rssMb: number;
  /** The kernel's high-water mark of the RSS (counts the peaks between samples). */
  hwmMb: number;
  /** CPU (user + system) used so far. */
  cpuS: number;
}

/** RSS now, the kernel's high-water mark of it (peaks between samples), and CPU used so far. */
export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, hwmMb: hwmKb / 1024, cpuS: ticks / 100 };
}

export interface RssSample {
  tSeconds: number;
  mb: number;
  cpuS: number;
}

/** Samples `pid` every 250 ms from now until stop(), which returns the last sample too. */
export function startSampler(pid: number): { samples: RssSample[]; stop: () => ProcSample } {
  const t0 = performance.now();
  const samples: RssSample[] = [];
  const timer = setInterval(() => {
    try {
      const s = procSample(pid);
      samples.push({ tSeconds: (performance.now() - t0) / 1000, mb: s.rssMb, cpuS: s.cpuS });
    } catch {
      // the process is gone; the run fails elsewhere
    }
  }, 250);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      return procSample(pid);
    },
  };
}

/** The largest RSS seen: the kernel's high-water mark, or a sample if larger. */
export const rssMax = (last: ProcSample, samples: RssSample[]): number => Math.max(last.hwmMb, ...samples.map((s) => s.mb));

export interface WatchedObject {
  metadata: { namespace?: string; name?: string; resourceVersion?: string };
}

/**
 * Watches `path` as a user would. The watch ends now and then (client timeout, apiserver closing
 * it): it starts again from the last resourceVersion seen, until stop(). T is what the caller
 * takes the watched objects to be: the watch itself delivers them untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the caller's view of untyped watch objects
export async function restartableWatch<T extends WatchedObject>(
  kc: KubeConfig,
  path: string,
  onEvent: (phase: string, obj: T) => void,
): Promise<{ stop: () => void }> {
  let watching = true;
  let lastRv = '';
  let current: AbortController | undefined;
  const handle = (phase: string, obj: T) => {
    lastRv = obj.metadata.resourceVersion ?? lastRv;
    onEvent(phase, obj);
  };
  const start = async (): Promise<void> => {
    current = await new Watch(kc).watch(
      path,
      lastRv ? { resourceVersion: lastRv, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
      handle,
      () => {
        if (watching) setTimeout(() => void start(), 100);
      },
    );
  };
  await start();
  return {
    stop: () => {
      watching = false;
      current?.abort();
    },
  };
}

export interface ObjectKey {
  ns: string;
  name: string;
  i: number;
}

export const keyOf = (k: { ns: string; name: string }): string => `${k.ns}/${k.name}`;

/** N keys spread over the namespaces, app-0 … app-(N-1). */
export function objectKeys(n: number, namespaces: string[]): ObjectKey[] {
  return Array.from({ length: n }, (_, i) => ({ ns: namespaces[i % namespaces.length] ?? 'bench-0', name: `app-${i}`, i }));
}

/**
 * Calls `create` for each key at `rate` per second, at most MAX_IN_FLIGHT at once, and returns when
 * all have answered: the time each was sent (by keyOf), and when the first was.
 */
export async function createAtRate(
  keys: ObjectKey[],
  rate: number,
  create: (k: ObjectKey) => Promise<unknown>,
): Promise<{ sentAt: Map<string, number>; tStart: number }> {
  const sentAt = new Map<string, number>();
  const tStart = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const k of keys) {
    const due = tStart + (k.i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(keyOf(k), performance.now());
    const p = create(k);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { sentAt, tStart };
}

/** Milliseconds from each key's send to the time `doneAt` has for it, ascending (NaN where missing). */
export function latenciesMs(keys: ObjectKey[], sentAt: Map<string, number>, doneAt: (key: string) => number | undefined): number[] {
  return keys.map((k) => (doneAt(keyOf(k)) ?? NaN) - (sentAt.get(keyOf(k)) ?? NaN)).sort((a, b) => a - b);
}
