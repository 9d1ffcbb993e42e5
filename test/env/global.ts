// node:test global setup for the integration and e2e suites: one environment for the whole run,
// with the pod identity webhook, handed to the tests through IRSA_TESTENV, stopped at the end
// (and on Ctrl-C, by processes.ts). At the end it prints the summary lines that several test files
// measure together (figures.ts).
import { startEnv, type RunningEnv } from './cluster.ts';
import { accountsLine } from './figures.ts';

let env: RunningEnv | undefined;

export async function globalSetup(): Promise<void> {
  env = await startEnv((line) => process.stderr.write(`[testenv] ${line}\n`), { webhook: true });
  const { stop: _stop, ...info } = env;
  process.env.IRSA_TESTENV = JSON.stringify(info);
}

export async function globalTeardown(): Promise<void> {
  const line = env && accountsLine(env.dir);
  if (line) console.log(line);
  await env?.stop();
}
