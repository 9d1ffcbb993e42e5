// podman as the image test uses it, with what this kind of sandbox needs on every call: runc (crun
// is refused here) and explicit ulimits (podman's defaults raise nofile and nproc, which needs
// CAP_SYS_RESOURCE, and the sandbox has not got it). Containers it starts are labelled with this
// run and removed whatever way the process ends.
import { execFile, execFileSync } from 'node:child_process';

export const RUNTIME = process.env.IRSA_PODMAN_RUNTIME ?? 'runc';
export const ULIMITS = ['--ulimit=nofile=1024:1024', '--ulimit=nproc=1024:1024'];
/** The label on every container of this run: .ci/run counts what is left with it. */
export const RUN_LABEL = 'dev.irsa.test=image';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** podman `args`; never rejects: the caller reads `code`. */
export function podman(args: string[], timeoutMs = 600_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      'podman',
      [`--runtime=${RUNTIME}`, ...args],
      { maxBuffer: 256 << 20, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        // A podman that could not be started or was killed at the timeout says so only in err.
        resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
      },
    );
  });
}

/** podman `args`, failing with its stderr unless it exits 0. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  const tail = (s: string) => s.trim().split('\n').slice(-25).join('\n');
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${tail(r.stdout)}\n${tail(r.stderr)}`);
  return r.stdout;
}

export function podmanInstalled(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const containers = new Set<string>();
let hooked = false;

/** Removes container `name` when this process exits, however it exits (test/env's children go then too). */
export function removeContainerOnExit(name: string): void {
  containers.add(name);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of containers) {
      try {
        execFileSync('podman', [`--runtime=${RUNTIME}`, 'rm', '--force', '--time=0', c], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // already gone
      }
    }
  });
}

/** Removes container `name` now (and forgets it). */
export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--time=0', name]);
  containers.delete(name);
}

export interface ImageInfo {
  id: string;
  sizeBytes: number;
  layers: number;
  user: string;
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  env: string[];
}

export async function inspectImage(ref: string): Promise<ImageInfo> {
  interface Raw {
    Id: string;
    Size: number;
    RootFS: { Layers: string[] | null };
    Config: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; Env?: string[] | null };
  }
  const [raw] = JSON.parse(await podmanOk(['image', 'inspect', ref])) as Raw[];
  if (!raw) throw new Error(`podman image inspect ${ref}: nothing`);
  return {
    id: raw.Id,
    sizeBytes: raw.Size,
    layers: raw.RootFS.Layers?.length ?? 0,
    user: raw.Config.User ?? '',
    entrypoint: raw.Config.Entrypoint ?? [],
    cmd: raw.Config.Cmd ?? [],
    workingDir: raw.Config.WorkingDir ?? '',
    env: raw.Config.Env ?? [],
  };
}

export interface ContainerState {
  status: string;
  running: boolean;
  pid: number;
  exitCode: number;
  oomKilled: boolean;
}

export async function containerState(name: string): Promise<ContainerState> {
  interface Raw {
    State: { Status: string; Running: boolean; Pid: number; ExitCode: number; OOMKilled: boolean };
  }
  const [raw] = JSON.parse(await podmanOk(['container', 'inspect', name])) as Raw[];
  if (!raw) throw new Error(`podman container inspect ${name}: nothing`);
  return {
    status: raw.State.Status,
    running: raw.State.Running,
    pid: raw.State.Pid,
    exitCode: raw.State.ExitCode,
    oomKilled: raw.State.OOMKilled,
  };
}
