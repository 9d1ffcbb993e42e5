// The ACK iam-controller (github.com/aws-controllers-k8s/iam-controller) as `--compare ack` runs
// it: built and pinned by `test/env/setup.sh ack`, its CRDs applied server-side, run as a process
// against the environment's apiserver and the counting AWS proxy, as its Helm chart runs it (one
// concurrent sync, info logs, every resource kind) except for the local endpoint and the flags a
// process outside a cluster needs (no leader election, metrics and health on free loopback ports).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { peerKubeconfig, readTestenv, REPO, runKubectl, TEST_REGION, type RunningEnv } from '../env/cluster.ts';
import { freePort, startProcess, waitFor } from '../env/processes.ts';
import { controllerIdle, workersStarted } from './compare-report.ts';
import { makeMemoryCgroup, quantityBytes, type MemoryCgroup } from './production.ts';

export const ACK_GROUP = 'iam.services.k8s.aws';
export const ACK_VERSION = 'v1alpha1';
export const ACK_ROLES = 'roles';
/** limits.memory in the controller's Helm chart (helm/values.yaml); its cpu limit, 100m, is not applied (nor is the operator's). */
export const ACK_CHART_MEMORY_LIMIT = '128Mi';

export interface AckBuild {
  commit: string;
  binary: string;
  crds: string;
}

/** Builds the controller if the cache lacks it (`test/env/setup.sh ack`), and says where it is. */
export function ensureAckBuilt(log: (line: string) => void): AckBuild {
  log('building or finding the ACK iam-controller (test/env/setup.sh ack)');
  const r = spawnSync('bash', [join(REPO, 'test/env/setup.sh'), 'ack'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`test/env/setup.sh ack failed (exit ${r.status ?? r.signal ?? '?'})`);
  const vars = readTestenv();
  const build = { commit: vars.ACK_IAM_COMMIT ?? '', binary: vars.ACK_IAM_CONTROLLER ?? '', crds: vars.ACK_IAM_CRDS ?? '' };
  if (!existsSync(build.binary) || !existsSync(build.crds))
    throw new Error(`setup.sh ack left no controller or CRDs: ${JSON.stringify(build)}`);
  return build;
}

/** Applies the controller's CRDs server-side and waits until each is Established. */
export async function installAckCrds(env: RunningEnv, crds: string): Promise<void> {
  const steps = [
    ['apply', '--server-side', '-f', crds],
    ['wait', '--for=condition=Established', '--timeout=60s', '-f', crds],
  ];
  for (const step of steps) {
    const r = await runKubectl(env, step);
    if (r.code !== 0) throw new Error(`kubectl ${step.join(' ')} failed: ${r.stderr}`);
  }
}

export interface AckOptions {
  env: RunningEnv;
  binary: string;
  logFile: string;
  /** More flags, e.g. --reconcile-default-max-concurrent-syncs=8. */
  extraArgs: string[];
  /** A Kubernetes quantity, or 'none'. */
  memoryLimit: string;
  log: (line: string) => void;
  onUnexpectedExit: (why: string) => void;
}

export interface RunningAck {
  pid: number;
  cgroup: MemoryCgroup | string;
  metrics: () => Promise<string>;
  /** Whether the Role controller is idle: no busy worker, nothing ready in its queue. */
  roleQueueEmpty: () => Promise<boolean>;
  stop: () => Promise<void>;
}

/** The flags of the README of the snapshot (third_party), for a local endpoint. */
function ackArgs(endpoint: string, metricsPort: number, healthPort: number, extra: string[]): string[] {
  return [
    `--aws-region=${TEST_REGION}`,
    `--aws-endpoint-url=${endpoint}`,
    // It calls STS GetCallerIdentity at start.
    `--aws-identity-endpoint-url=${endpoint}`,
    '--allow-unsafe-aws-endpoint-urls',
    '--enable-leader-election=false',
    `--metrics-addr=127.0.0.1:${metricsPort}`,
    `--healthz-addr=127.0.0.1:${healthPort}`,
    ...extra,
  ];
}

/** Starts the controller and waits until its Role controller runs its workers. */
export async function startAck(o: AckOptions): Promise<RunningAck> {
  const [metricsPort, healthPort] = await Promise.all([freePort(), freePort()]);
  const cgroup =
    o.memoryLimit === 'none' ? 'no limit asked for' : makeMemoryCgroup(quantityBytes(o.memoryLimit), `ack-bench-${process.pid}`);
  if (typeof cgroup === 'string') o.log(`ACK runs WITHOUT a memory limit: ${cgroup}`);
  else o.log(`ACK runs in memory cgroup ${cgroup.describe}`);
  const args = ackArgs(o.env.awsEndpoint, metricsPort, healthPort, o.extraArgs);
  // The log is appended to: this run's part starts here.
  const logFrom = existsSync(o.logFile) ? statSync(o.logFile).size : 0;
  const thisRunsLog = () => readFileSync(o.logFile).subarray(logFrom).toString('utf8');
  const run = typeof cgroup === 'string' ? { command: o.binary, args } : cgroup.wrap(o.binary, args);
  const ack = startProcess(run.command, run.args, {
    logFile: o.logFile,
    env: {
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: TEST_REGION,
      // Set (to a CA file) on some machines: the controller then fails every reconcile with
      // "unable to add custom RootCAs HTTPClient" (the third_party README).
      AWS_CA_BUNDLE: '',
      KUBECONFIG: peerKubeconfig(o.env),
    },
  });
  let stopping = false;
  ack.child.once('exit', (code, signal) => {
    if (stopping) return;
    const kills = typeof cgroup === 'string' ? 0 : cgroup.oomKills();
    if (typeof cgroup !== 'string') cgroup.remove();
    o.onUnexpectedExit(`the ACK controller exited during the run (code ${code}, signal ${signal}; OOM kills: ${kills}); see ${o.logFile}`);
  });
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const stop = async () => {
    stopping = true;
    await ack.stop();
    if (typeof cgroup === 'string') return;
    const kills = cgroup.oomKills();
    cgroup.remove();
    if (kills > 0) throw new Error(`the ACK controller was OOM-killed ${kills} time(s) under the ${o.memoryLimit} limit`);
  };
  try {
    await waitFor('the ACK controller to be healthy', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, 60_000, 100);
    await waitFor('the ACK Role controller to start its workers', () => workersStarted(thisRunsLog(), 'role'), 60_000, 100);
    await waitFor('the ACK Role controller on /metrics', async () => controllerIdle(await metrics(), 'role') !== undefined, 60_000, 100);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    pid: ack.child.pid ?? 0,
    cgroup,
    metrics,
    roleQueueEmpty: async () => controllerIdle(await metrics(), 'role') === true,
    stop,
  };
}

export interface AckRoleSpec {
  name: string;
  description: string;
  assumeRolePolicyDocument: string;
  policies: string[];
  maxSessionDuration: number;
}

/** An iam.services.k8s.aws/v1alpha1 Role. */
export function ackRole(namespace: string, name: string, spec: AckRoleSpec) {
  return { apiVersion: `${ACK_GROUP}/${ACK_VERSION}`, kind: 'Role', metadata: { name, namespace }, spec };
}
