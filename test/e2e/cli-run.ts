// Runs the irsa CLI as a user runs it: a child process of src/cli/bin.ts, pointed at the test
// environment's apiserver (admin kubeconfig) and IAM endpoint.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ACCOUNT, TEST_CLUSTER } from '../env/cluster.ts';
import { env, REPO, TEST_ISSUER } from './helpers.ts';

export const CLI = join(REPO, 'src/cli/bin.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: opts.cwd ?? REPO,
        maxBuffer: 64 << 20,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KUBECONFIG: env().adminKubeconfig,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_REGION: 'us-east-1',
          ...opts.env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The identity flags of the test cluster, for render and validate. */
export function identityFlags(region = 'us-east-1'): string[] {
  return ['--cluster', TEST_CLUSTER, '--region', region, '--account', TEST_ACCOUNT, '--issuer', TEST_ISSUER];
}
