// What the image test reads off the running container: the process's credentials, capabilities
// and memory from the host's /proc (rootful podman shares the host's user namespace, so the ids are
// the container's own), and a write attempt made inside the container.
import { readFileSync, readlinkSync } from 'node:fs';
import { podmanOk } from './podman.ts';

export interface ProcStatus {
  /** Real, effective, saved and filesystem ids. */
  uids: number[];
  gids: number[];
  capEff: bigint;
  capPrm: bigint;
  capBnd: bigint;
  noNewPrivs: number;
  /** 0 none, 1 strict, 2 filter (a seccomp profile). */
  seccomp: number;
  vmRssKb: number;
  vmHwmKb: number;
}

export function procStatus(pid: number): ProcStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => {
    const v = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1];
    if (v === undefined) throw new Error(`/proc/${pid}/status has no ${name}`);
    return v.trim();
  };
  const ids = (name: string) => field(name).split(/\s+/).map(Number);
  const kb = (name: string) => Number(/^(\d+)/.exec(field(name))?.[1] ?? NaN);
  return {
    uids: ids('Uid'),
    gids: ids('Gid'),
    capEff: BigInt(`0x${field('CapEff')}`),
    capPrm: BigInt(`0x${field('CapPrm')}`),
    capBnd: BigInt(`0x${field('CapBnd')}`),
    noNewPrivs: Number(field('NoNewPrivs')),
    seccomp: Number(field('Seccomp')),
    vmRssKb: kb('VmRSS'),
    vmHwmKb: kb('VmHWM'),
  };
}

/** The command line and executable of `pid`, as the container sees them. */
export function procCommand(pid: number): { exe: string; argv: string[]; maps: string } {
  return {
    exe: readlinkSync(`/proc/${pid}/exe`),
    argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean),
    maps: readFileSync(`/proc/${pid}/maps`, 'utf8'),
  };
}

export interface WriteProbe {
  /** Directory -> the error code a file create there got ("written" if it succeeded). */
  attempts: Record<string, string>;
  /** Mount options of the container's root mount. */
  rootMount: string;
}

// Runs with the image's own node, as the operator's user, in the running container: there is no
// shell in the image to run anything else with.
const PROBE = `
const fs = require('node:fs');
const attempts = {};
for (const dir of DIRS) {
  if (!fs.existsSync(dir)) continue;
  const file = dir.replace(/\\/$/, '') + '/.irsa-write-probe';
  try { fs.writeFileSync(file, 'x'); attempts[dir] = 'written'; fs.rmSync(file); } catch (e) { attempts[dir] = e.code; }
}
const root = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').map((l) => l.split(' ')).find((f) => f[4] === '/');
console.log(JSON.stringify({ attempts, rootMount: root ? root[5] : '' }));
`;

/** Tries to create a file in each of `dirs` (those that exist) inside container `name`, as `user`. */
export async function writeProbe(name: string, user: string, node: string, dirs: string[]): Promise<WriteProbe> {
  const out = await podmanOk(['exec', `--user=${user}`, name, node, '-e', PROBE.replace('DIRS', JSON.stringify(dirs))]);
  return JSON.parse(out) as WriteProbe;
}

/** VmRSS of `pid` every `everyMs` for `windowMs`: the samples in MB (2^20 bytes, as the bench counts). */
export async function sampleRss(pid: number, windowMs: number, everyMs = 250): Promise<number[]> {
  const samples: number[] = [];
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    samples.push(procStatus(pid).vmRssKb / 1024);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return samples;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
