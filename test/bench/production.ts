// What the production Deployment (config/manager/manager.yaml) imposes on the operator, applied to
// the benchmark's operator process: its runtime environment variables, and its memory limit as the
// kubelet sets it, a memory cgroup. Node reads the limit to size its heap, and the kernel OOM-kills
// the process if it goes over, so the benchmark measures the operator as it runs in a cluster.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface MemoryCgroup {
  /** The command line that runs `command args` inside the cgroup. */
  wrap: (command: string, args: string[]) => { command: string; args: string[] };
  /** Times the kernel OOM-killed a process in the cgroup. */
  oomKills: () => number;
  remove: () => void;
  describe: string;
}

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9, '': 1 };

/** A Kubernetes memory quantity ("256Mi", "1G", "134217728") in bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G|)$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1));
}

export interface OperatorContainer {
  /** limits.memory, e.g. "256Mi". */
  memoryLimit: string;
  /** Environment variables with literal values, except the operator's own IRSA_* settings. */
  runtimeEnv: Record<string, string>;
}

/** The operator container of the Deployment in `file`. */
export function operatorContainer(file: string): OperatorContainer {
  interface Container {
    resources?: { limits?: { memory?: string } };
    env?: { name: string; value?: string }[];
  }
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } };
    const c = o.kind === 'Deployment' ? o.spec?.template?.spec?.containers?.[0] : undefined;
    const memoryLimit = c?.resources?.limits?.memory;
    if (!memoryLimit) continue;
    const runtimeEnv = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined && !e.name.startsWith('IRSA_')).map((e) => [e.name, e.value ?? '']));
    return { memoryLimit, runtimeEnv };
  }
  throw new Error(`${file} has no Deployment with limits.memory`);
}

/** This process's cgroup directory for the memory controller (v1 or v2), if the filesystem has one. */
function ownMemoryCgroupDir(): { dir: string; v2: boolean } | undefined {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controllers?.split(',').includes('memory') && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', path), v2: false };
    if (controllers === '' && existsSync(join('/sys/fs/cgroup', path, 'cgroup.controllers'))) {
      const dir = join('/sys/fs/cgroup', path);
      if (readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return { dir, v2: true };
    }
  }
  return undefined;
}

/** A fresh memory cgroup limited to `limitBytes`, or the reason there cannot be one here. */
export function makeMemoryCgroup(limitBytes: number, name: string): MemoryCgroup | string {
  const own = ownMemoryCgroupDir();
  if (!own) return 'no memory cgroup controller is mounted';
  const dir = join(own.dir, name);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, own.v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
    if (own.v2) writeFileSync(join(dir, 'memory.swap.max'), '0');
  } catch (e) {
    return `cannot create a memory cgroup under ${own.dir}: ${(e as Error).message}`;
  }
  const procs = join(dir, 'cgroup.procs');
  return {
    describe: `${dir} (${own.v2 ? 'v2' : 'v1'}, limit ${limitBytes} bytes)`,
    wrap: (command, args) => ({ command: '/bin/sh', args: ['-c', `echo $$ > '${procs}' && exec "$0" "$@"`, command, ...args] }),
    oomKills: () => {
      const file = join(dir, own.v2 ? 'memory.events' : 'memory.oom_control');
      return Number(/oom_kill (\d+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
    },
    remove: () => rmdirSync(dir),
  };
}
