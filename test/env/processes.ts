// Child processes of the test environment: started in their own process group, logged to a file,
// and killed whatever way this process ends (normal exit, failed test, Ctrl-C, SIGTERM); with
// them go the directories they worked in (in /dev/shm: memory).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

const children = new Set<ChildProcess>();
const workDirs = new Set<string>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // The last resort: synchronous, so it runs even on process.exit().
  process.on('exit', () => {
    for (const c of children) killGroup(c, 'SIGKILL');
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const c of children) killGroup(c, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Removes `dir` when this process ends, however it ends; the returned function removes it now. */
export function removeOnExit(dir: string): () => void {
  hookExit();
  workDirs.add(dir);
  return () => {
    rmSync(dir, { recursive: true, force: true });
    workDirs.delete(dir);
  };
}

export interface Started {
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts a child in its own process group; output goes to `logFile`, or to ours when it is undefined. */
export function startProcess(command: string, args: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string }): Started {
  hookExit();
  const fd = opts.logFile === undefined ? 'inherit' : openSync(opts.logFile, 'a');
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  if (typeof fd === 'number') closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    // The child is unref'd: without a handle of ours the event loop could end before its exit
    // event after SIGKILL (Node exits 13, "unsettled top-level await").
    const keepAlive = setInterval(() => undefined, 1000);
    await exited;
    clearTimeout(timer);
    clearInterval(keepAlive);
  };
  child.unref();
  return { child, stop };
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns true or the deadline passes; `describe` says what was awaited. */
export async function waitFor(
  describe: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}${why}`);
}
