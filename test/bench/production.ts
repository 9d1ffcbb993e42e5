// What the image (Dockerfile) and the production Deployment (config/manager/manager.yaml) impose
// on the operator, applied to the benchmark's operator process: the image's and the Deployment's
// environment variables (the image preloads its memory allocator), and the memory limit as the
// kubelet sets it, a memory cgroup. Node reads the limit to size its heap, and the kernel OOM-kills
// the process if it goes over, so the benchmark measures the operator as it runs in a cluster.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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
    const runtimeEnv = Object.fromEntries(
      (c.env ?? []).filter((e) => e.value !== undefined && !e.name.startsWith('IRSA_')).map((e) => [e.name, e.value ?? '']),
    );
    return { memoryLimit, runtimeEnv };
  }
  throw new Error(`${file} has no Deployment with limits.memory`);
}

/** The image's runtime stage: its ENV (later settings win), the paths its COPY lines write, its CMD. */
export interface ImageStage {
  env: Record<string, string>;
  copiedTo: string[];
  /** CMD in exec form: the arguments the base image's entrypoint (node) gets. */
  cmd: string[];
}

/** Words of an instruction's arguments; double quotes group, a backslash escapes the next character. */
function words(args: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let i = 0; i < args.length; i++) {
    const ch = args.charAt(i);
    if (ch === '\\' && i + 1 < args.length) {
      word = (word ?? '') + args.charAt(++i);
    } else if (ch === '"') {
      quoted = !quoted;
      word ??= '';
    } else if (!quoted && /\s/.test(ch)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quoted) throw new Error(`unterminated quote in: ${args}`);
  if (word !== undefined) out.push(word);
  return out;
}

/** The last stage of a Dockerfile: the one the image runs. */
export function imageStage(dockerfile: string): ImageStage {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let stage: ImageStage | undefined;
  for (const line of instructions) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (keyword.toUpperCase()) {
      case 'FROM':
        stage = { env: {}, copiedTo: [], cmd: [] };
        break;
      case 'ENV': {
        if (!stage) throw new Error(`ENV before FROM: ${line}`);
        const ws = words(args);
        if (ws.length > 0 && !ws[0]?.includes('=')) {
          // The old form: ENV KEY value with spaces
          stage.env[ws[0] ?? ''] = args.slice(args.indexOf(' ') + 1).trim();
          break;
        }
        for (const w of ws) {
          const eq = w.indexOf('=');
          if (eq <= 0) throw new Error(`ENV ${args}: ${w} is not KEY=VALUE`);
          stage.env[w.slice(0, eq)] = w.slice(eq + 1);
        }
        break;
      }
      case 'CMD': {
        if (!stage) throw new Error(`CMD before FROM: ${line}`);
        let cmd: unknown;
        try {
          cmd = JSON.parse(args);
        } catch {
          // reported below
        }
        if (!Array.isArray(cmd) || !cmd.every((a) => typeof a === 'string'))
          throw new Error(`CMD ${args}: not the exec form (a JSON array of strings)`);
        stage.cmd = cmd;
        break;
      }
      case 'COPY': {
        if (!stage) throw new Error(`COPY before FROM: ${line}`);
        const dest = words(args)
          .filter((w) => !w.startsWith('--'))
          .at(-1);
        if (dest) stage.copiedTo.push(dest);
        break;
      }
    }
  }
  if (!stage) throw new Error('the Dockerfile has no FROM');
  return stage;
}

/** `ldconfig -p`: the shared libraries this machine's dynamic linker knows, with their paths. */
function sharedLibraries(): string {
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(cmd, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // not on PATH under that name: the next one
    }
  }
  return '';
}

/**
 * LD_PRELOAD with each library the image preloads replaced by the same library on this machine
 * (image paths are not this machine's). A library this machine lacks is an error that says how to
 * get it, or how to measure without it.
 */
export function localPreload(preload: string): string {
  const libs = preload.split(/[\s:]+/).filter(Boolean);
  if (libs.length === 0) return '';
  return libs
    .map((lib) => {
      if (existsSync(lib)) return lib;
      const name = basename(lib);
      const local = sharedLibraries()
        .split('\n')
        .map((l) => /^\s*(\S+) .*=> (\S+)$/.exec(l))
        .find((m) => m?.[1] === name && (process.arch !== 'x64' || m[0].includes('x86-64')))?.[2];
      if (!local) {
        const howTo = name.startsWith('libjemalloc')
          ? 'Install jemalloc (Debian, Ubuntu: apt-get install libjemalloc2; Fedora: dnf install jemalloc)'
          : `Install ${name}`;
        throw new Error(
          `the image preloads ${name} (LD_PRELOAD in the Dockerfile) and this machine has none. ${howTo} to measure the operator as the image runs it, or measure without it: --operator-env LD_PRELOAD=`,
        );
      }
      return local;
    })
    .join(':');
}

/** This process's cgroup directory for the memory controller (v1 or v2), if the filesystem has one. */
function ownMemoryCgroupDir(): { dir: string; v2: boolean } | undefined {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controllers?.split(',').includes('memory') && existsSync('/sys/fs/cgroup/memory'))
      return { dir: join('/sys/fs/cgroup/memory', path), v2: false };
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
