// node:test global setup for the integration and e2e suites: one environment for the whole run,
// with the pod identity webhook, handed to the tests through IRSA_TESTENV, stopped at the end
// (and on Ctrl-C, by processes.ts).
import { startEnv, type RunningEnv } from './cluster.ts';

let env: RunningEnv | undefined;

export async function globalSetup(): Promise<void> {
  env = await startEnv((line) => process.stderr.write(`[testenv] ${line}\n`), { webhook: true });
  const { stop: _stop, ...info } = env;
  process.env.IRSA_TESTENV = JSON.stringify(info);
}

export async function globalTeardown(): Promise<void> {
  await env?.stop();
}
