// The operator's CPU profile (`npm run bench -- --cpu-prof`), summarised: where its busy time went,
// by package and by function, mapped through the bundle's source map to the files it was built
// from. Native frames (garbage collection, socket writes, the compiler) are charged to the
// innermost package frame that called them, or shown under their own name when none did (GC).
import { readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';

interface CallFrame {
  url: string;
  functionName: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  busyMs: number;
  byPackage: [string, number][];
  byFunction: [string, number][];
}

/** `node_modules/@smithy/core/...` -> `@smithy/core`; `src/controller/role.ts` stays; node's own -> `node:*`. */
function packageOf(source: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (m?.[1]) return m[1];
  const ours = /(?:^|\/)(src\/.*)$/.exec(source);
  return ours?.[1] ?? source;
}

/** Summarises the one .cpuprofile in `dir`, mapped through `sourceMapFile`. */
export function summariseProfile(dir: string, sourceMapFile: string, top = 15): ProfileSummary {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}: did the operator exit normally?`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const map = new SourceMap(JSON.parse(readFileSync(sourceMapFile, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const labels = new Map<number, { pkg: string; fn: string } | undefined>();
  const label = (id: number) => {
    if (labels.has(id)) return labels.get(id);
    const cf = nodes.get(id)?.callFrame;
    let found: { pkg: string; fn: string } | undefined;
    if (cf?.url.endsWith('.mjs')) {
      const e = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
      const source = e.originalSource ?? '?';
      const pkg = packageOf(source);
      found = { pkg, fn: `${e.name ?? cf.functionName} (${source.replace(/.*node_modules\//, '')}:${(e.originalLine ?? 0) + 1})` };
    }
    labels.set(id, found);
    return found;
  };

  const selfUs = new Map<number, number>();
  profile.samples.forEach((s, i) => selfUs.set(s, (selfUs.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyMs = 0;
  for (const [id, us] of selfUs) {
    const own = nodes.get(id)?.callFrame.functionName ?? '';
    if (own === '(idle)') continue;
    const ms = us / 1000;
    busyMs += ms;
    let cur: number | undefined = id;
    let owner = label(id);
    while (!owner && cur !== undefined) {
      cur = parent.get(cur);
      owner = cur === undefined ? undefined : label(cur);
    }
    const bare = own.startsWith('(') ? own : `(${own || 'native'})`;
    const pkg = own === '(garbage collector)' ? own : (owner?.pkg ?? bare);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = label(id)?.fn ?? `${own || '(anonymous)'} [${nodes.get(id)?.callFrame.url || 'native'}]`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const largest = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { busyMs, byPackage: largest(byPackage), byFunction: largest(byFunction) };
}

export function formatSummary(s: ProfileSummary): string {
  const rows = (list: [string, number][]) =>
    list.map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / s.busyMs).toFixed(1).padStart(5)} %  ${name}`).join('\n');
  return `busy ${(s.busyMs / 1000).toFixed(1)} s (idle left out)\nby package (native work charged to the package that called it):\n${rows(s.byPackage)}\nby function (self time):\n${rows(s.byFunction)}\n`;
}
