import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const PROCESSES = new URL('../env/processes.ts', import.meta.url).href;

/** Runs a Node process that registers `dir` with removeOnExit, then ends the way `end` says. */
async function endsWith(dir: string, end: string): Promise<void> {
  const script = `import { removeOnExit } from ${JSON.stringify(PROCESSES)}; removeOnExit(${JSON.stringify(dir)}); ${end}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

for (const [how, end] of [
  ['SIGTERM (a killed benchmark)', "process.kill(process.pid, 'SIGTERM'); setInterval(() => {}, 1000);"],
  ['SIGINT (Ctrl-C)', "process.kill(process.pid, 'SIGINT'); setInterval(() => {}, 1000);"],
  ['an uncaught error', "throw new Error('boom');"],
  ['a normal exit', ''],
] as const) {
  test(`the test environment's work directory is removed when the process ends by ${how}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-remove-on-exit-'));
    await endsWith(dir, end);
    assert.equal(existsSync(dir), false, `${dir} is left behind`);
  });
}
