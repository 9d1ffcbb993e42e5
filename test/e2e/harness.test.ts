// The local environment itself: `npm start`'s script comes up, and Ctrl-C leaves no process behind.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '../env/processes.ts';
import { REPO } from '../env/cluster.ts';

/** Every process whose parent chain leads to `root`. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone while reading
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

it('npm start brings up apiserver, etcd, moto, the pod identity webhook and the operator, and Ctrl-C leaves no process behind', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO, 'test/env/local.ts')], {
    env: { ...process.env, IRSA_HTTP_PORT: String(port), IRSA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor('the local environment to say it is ready', () => output.includes('operator ready'), 90_000, 100).catch((e: unknown) => {
    child.kill('SIGINT');
    throw new Error(`${(e as Error).message}; it said:\n${output.slice(-4000)}`);
  });

  const pids = descendants(child.pid ?? -1);
  const names = pids.map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '));
  for (const want of ['etcd', 'kube-apiserver', 'moto_server', 'pod-identity-webhook', 'src/main.ts']) {
    assert.ok(
      names.some((n) => n.includes(want)),
      `${want} runs under npm start: ${names.join(' | ')}`,
    );
  }
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  assert.match(output, /export KUBECONFIG=/);
  assert.match(output, /kubectl run app -n demo .*"serviceAccountName":"s3-reader"/, 'the hints show a pod of the example');
  assert.match(output, /AWS_ROLE_ARN/);

  child.kill('SIGINT');
  assert.equal(await exited, 130, output);
  await waitFor('every child process to be gone', () => pids.every((p) => !alive(p)), 15_000);
});
