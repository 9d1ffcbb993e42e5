// The operator as the benchmark runs it: its own process from the production bundle, with the
// image's command and environment, the Deployment's environment, under the Deployment's memory
// limit (a memory cgroup, where this machine lets us make one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type IamServiceAccount } from '../../src/api/types.ts';
import { findCondition } from '../../src/controller/conditions.ts';
import { REPO, TEST_CLUSTER, TEST_ISSUER, TEST_REGION, type RunningEnv } from '../env/cluster.ts';
import { startProcess, waitFor } from '../env/processes.ts';
import { keyOf, restartableWatch } from './measure.ts';
import { imageStage, localPreload, makeMemoryCgroup, operatorContainer, quantityBytes, type MemoryCgroup } from './production.ts';

export const PRODUCTION = operatorContainer(join(REPO, 'config/manager/manager.yaml'));
const IMAGE = imageStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
/** The node flags of the image's command (its CMD without the script). */
export const IMAGE_NODE_FLAGS = IMAGE.cmd.filter((a) => a.startsWith('-'));

/** As the container runs: the image's environment, then the Deployment's, then `extra`. */
export function runtimeEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...IMAGE.env, ...PRODUCTION.runtimeEnv, ...extra };
  if (env.LD_PRELOAD !== undefined) env.LD_PRELOAD = localPreload(env.LD_PRELOAD);
  return env;
}

export interface OperatorOptions {
  env: RunningEnv;
  logFile: string;
  runtimeEnv: Record<string, string>;
  /** A Kubernetes quantity, or 'none'. */
  memoryLimit: string;
  driftSeconds: number;
  iamWritesPerSecond: number;
  log: (line: string) => void;
  /** Called if the operator exits before stop(): the run has no figures. */
  onUnexpectedExit: (why: string) => void;
}

export interface RunningOperator {
  pid: number;
  httpPort: number;
  /** The memory cgroup it runs in, or why it runs without one. */
  cgroup: MemoryCgroup | string;
  metrics: () => Promise<string>;
  /** Stops it; throws if the kernel OOM-killed it during the run. */
  stop: () => Promise<void>;
}

/** Starts the operator and waits until it is ready. */
export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const httpPort = 18080 + (process.pid % 1000);
  const cgroup =
    o.memoryLimit === 'none'
      ? 'no limit asked for (--memory-limit none)'
      : makeMemoryCgroup(quantityBytes(o.memoryLimit), `irsa-bench-${process.pid}`);
  if (typeof cgroup === 'string') o.log(`operator runs WITHOUT a memory limit: ${cgroup}`);
  else o.log(`operator runs in memory cgroup ${cgroup.describe}`);
  // The image's command: node with the CMD's arguments, its files taken from this checkout.
  const nodeArgs = IMAGE.cmd.map((a) => (a.startsWith('-') ? a : join(REPO, a)));
  const run = typeof cgroup === 'string' ? { command: process.execPath, args: nodeArgs } : cgroup.wrap(process.execPath, nodeArgs);
  const operator = startProcess(run.command, run.args, {
    logFile: o.logFile,
    env: {
      ...o.runtimeEnv,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: TEST_REGION,
      KUBECONFIG: o.env.operatorKubeconfig,
      IRSA_CLUSTER_NAME: TEST_CLUSTER,
      IRSA_OIDC_ISSUER: TEST_ISSUER,
      IRSA_AWS_ENDPOINT: o.env.awsEndpoint,
      IRSA_HTTP_PORT: String(httpPort),
      IRSA_LOG_LEVEL: 'warn',
      IRSA_DRIFT_PERIOD_SECONDS: String(o.driftSeconds),
      IRSA_IAM_WRITES_PER_SECOND: String(o.iamWritesPerSecond),
    },
  });
  // A benchmark whose operator died (OOM-killed, crashed) has no figures: say why.
  let stopping = false;
  operator.child.once('exit', (code, signal) => {
    if (stopping) return;
    const kills = typeof cgroup === 'string' ? 0 : cgroup.oomKills();
    if (typeof cgroup !== 'string') cgroup.remove();
    o.onUnexpectedExit(
      `the operator exited during the run (code ${code}, signal ${signal}; OOM kills in its cgroup: ${kills}); see ${o.logFile}`,
    );
  });
  await waitFor('the operator to be ready', async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok, 60_000, 100);
  return {
    pid: operator.child.pid ?? 0,
    httpPort,
    cgroup,
    metrics: async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
    stop: async () => {
      stopping = true;
      await operator.stop();
      if (typeof cgroup === 'string') return;
      const kills = cgroup.oomKills();
      cgroup.remove();
      if (kills > 0) throw new Error(`the operator was OOM-killed ${kills} time(s) under the ${o.memoryLimit} limit`);
    },
  };
}

/** When each object was first Ready at each generation, and when each was deleted, from the bench's own watch. */
export interface Seen {
  readyAt: Map<string, Map<number, number>>;
  deletedAt: Map<string, number>;
}

/** A user's view of IamServiceAccounts: Ready=True at the object's current generation. */
export function watchReady(kc: KubeConfig): Promise<Seen & { stop: () => void }> {
  const seen: Seen = { readyAt: new Map(), deletedAt: new Map() };
  const onEvent = (phase: string, obj: IamServiceAccount) => {
    const key = keyOf({ ns: obj.metadata.namespace, name: obj.metadata.name });
    if (phase === 'DELETED') {
      seen.deletedAt.set(key, performance.now());
      return;
    }
    const ready = findCondition(obj.status?.conditions, 'Ready');
    const gen = obj.metadata.generation ?? 0;
    if (ready?.status === 'True' && ready.observedGeneration === gen) {
      const m = seen.readyAt.get(key) ?? new Map<number, number>();
      if (!m.has(gen)) m.set(gen, performance.now());
      seen.readyAt.set(key, m);
    }
  };
  return restartableWatch(kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`, onEvent).then((w) => ({ ...seen, stop: w.stop }));
}
