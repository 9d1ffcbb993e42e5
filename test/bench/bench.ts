// npm run bench -- --objects N [--iam-writes-per-second R] [--out DIR] [--rate R] [--drift-seconds S] [--memory-limit Q|none] [--operator-env KEY=VALUE ...]
// Runs the operator as its own process against the local apiserver and moto, applies N mixed
// IamServiceAccounts at a steady rate, and measures time to Ready (create call -> Ready seen on a
// watch), AWS calls (at the counting proxy) and Kubernetes writes (apiserver audit log) per
// object, writes at rest over two drift periods, update/delete convergence, and the operator's
// RSS and CPU, with the image's and the Deployment's environment (the image's allocator, jemalloc,
// preloaded from this machine) and under the Deployment's memory limit (a memory cgroup, as the
// kubelet sets). Writes bench.json and bench.png into --out, and prints one summary line.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type IamServiceAccount, type IamServiceAccountSpec } from '../../src/api/types.ts';
import { findCondition } from '../../src/controller/conditions.ts';
import { fetchCalls, isWrite, type AwsCall } from '../env/aws-proxy.ts';
import {
  createOidcProvider,
  operatorKubeWrites,
  REPO,
  runKubectl,
  startEnv,
  TEST_CLUSTER,
  TEST_ISSUER,
  TEST_REGION,
} from '../env/cluster.ts';
import { startProcess, waitFor } from '../env/processes.ts';
import { imageStage, localPreload, makeMemoryCgroup, operatorContainer, quantityBytes } from './production.ts';
import { plotPng } from './plot.ts';

const PRODUCTION = operatorContainer(join(REPO, 'config/manager/manager.yaml'));
const IMAGE = imageStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '100' },
    'iam-writes-per-second': { type: 'string', default: '0' },
    out: { type: 'string', default: 'bench-out' },
    rate: { type: 'string', default: '50' },
    'drift-seconds': { type: 'string', default: '30' },
    namespaces: { type: 'string', default: '10' },
    // Default: limits.memory of the Deployment the project ships.
    'memory-limit': { type: 'string', default: PRODUCTION.memoryLimit },
    // KEY=VALUE, repeatable: added to (or overriding) the operator's production environment, to
    // measure a setting before it goes into the image or the Deployment.
    'operator-env': { type: 'string', multiple: true, default: [] },
  },
});
const N = Number(args.objects);
const WRITES_PER_SECOND = Number(args['iam-writes-per-second']);
const RATE = Number(args.rate);
const DRIFT_S = Number(args['drift-seconds']);
const NAMESPACES = Number(args.namespaces);
const OUT = args.out;
const OPERATOR_ENV = Object.fromEntries(
  args['operator-env'].map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--operator-env takes KEY=VALUE, not ${kv}`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }),
);
// As the container runs: the image's environment, then the Deployment's, then what was asked for.
const RUNTIME_ENV: Record<string, string> = { ...IMAGE.env, ...PRODUCTION.runtimeEnv, ...OPERATOR_ENV };
if (RUNTIME_ENV.LD_PRELOAD !== undefined) RUNTIME_ENV.LD_PRELOAD = localPreload(RUNTIME_ENV.LD_PRELOAD);
mkdirSync(OUT, { recursive: true });
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

function spec(i: number): IamServiceAccountSpec {
  switch (i % 4) {
    case 0:
      return { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] };
    case 1:
      return {
        attachPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['dynamodb:GetItem', 'dynamodb:Query'],
              Resource: `arn:aws:dynamodb:us-east-1:123456789012:table/t${i}`,
            },
          ],
        },
      };
    case 2:
      return { wellKnownPolicies: { externalDNS: true } };
    default:
      return { roleOnly: true, attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'] };
  }
}
/** Requests the benchmark's client keeps in flight at most. */
const MAX_IN_FLIGHT = 64;

/** Every shape above asks for exactly one policy (managed or inline): the "+ policies" of the target. */
const POLICIES_PER_OBJECT = 1;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const kubeWrites = (auditLog: string): number => operatorKubeWrites(auditLog).length;

/** RSS now, the kernel's high-water mark of it (peaks between samples), and CPU used so far. */
function procSample(pid: number): { rssMb: number; hwmMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, hwmMb: hwmKb / 1024, cpuS: ticks / 100 };
}

const byOp = (calls: AwsCall[]) => calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c.operation]: (m[c.operation] ?? 0) + 1 }), {});

const env = await startEnv(log);
try {
  await createOidcProvider(env.motoUrl);
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  for (const ns of namespaces) await runKubectl(env, ['create', 'namespace', ns]);

  const httpPort = 18080 + (process.pid % 1000);
  // As in production: the compiled JavaScript (npm run bench builds it first), with the image's
  // and the Deployment's runtime environment, under its memory limit when this machine lets us make a
  // memory cgroup.
  const cgroup =
    args['memory-limit'] === 'none'
      ? 'no limit asked for (--memory-limit none)'
      : makeMemoryCgroup(quantityBytes(args['memory-limit']), `irsa-bench-${process.pid}`);
  if (typeof cgroup === 'string') log(`operator runs WITHOUT a memory limit: ${cgroup}`);
  else log(`operator runs in memory cgroup ${cgroup.describe}`);
  // The image's command: node with the CMD's arguments, its files taken from this checkout.
  const nodeArgs = IMAGE.cmd.map((a) => (a.startsWith('-') ? a : join(REPO, a)));
  const run = typeof cgroup === 'string' ? { command: process.execPath, args: nodeArgs } : cgroup.wrap(process.execPath, nodeArgs);
  const operator = startProcess(run.command, run.args, {
    logFile: join(OUT, 'operator.log'),
    env: {
      ...RUNTIME_ENV,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: TEST_REGION,
      KUBECONFIG: env.operatorKubeconfig,
      IRSA_CLUSTER_NAME: TEST_CLUSTER,
      IRSA_OIDC_ISSUER: TEST_ISSUER,
      IRSA_AWS_ENDPOINT: env.awsEndpoint,
      IRSA_HTTP_PORT: String(httpPort),
      IRSA_LOG_LEVEL: 'warn',
      IRSA_DRIFT_PERIOD_SECONDS: String(DRIFT_S),
      IRSA_IAM_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
    },
  });
  const pid = operator.child.pid ?? 0;
  // A benchmark whose operator died (OOM-killed, crashed) has no figures: stop at once, say why.
  let stopping = false;
  operator.child.once('exit', (code, signal) => {
    if (stopping) return;
    const kills = typeof cgroup === 'string' ? 0 : cgroup.oomKills();
    log(
      `the operator exited during the run (code ${code}, signal ${signal}; OOM kills in its cgroup: ${kills}); see ${join(OUT, 'operator.log')}`,
    );
    void env.stop().finally(() => {
      if (typeof cgroup !== 'string') cgroup.remove();
      process.exit(1);
    });
  });
  await waitFor('the operator to be ready', async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok, 60_000, 100);
  const t0 = performance.now();
  const samples: { tSeconds: number; mb: number; cpuS: number }[] = [];
  const sampler = setInterval(() => {
    try {
      const s = procSample(pid);
      samples.push({ tSeconds: (performance.now() - t0) / 1000, mb: s.rssMb, cpuS: s.cpuS });
    } catch {
      // the operator is gone; the run fails below
    }
  }, 250);
  const cpuAtStart = procSample(pid).cpuS;

  // Watch as a user would: Ready=True at the object's current generation.
  const kc = new KubeConfig();
  kc.loadFromFile(env.adminKubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const readyAt = new Map<string, Map<number, number>>();
  const deletedAt = new Map<string, number>();
  // The watch ends now and then (client timeout, apiserver closing it): start it again from the
  // last resourceVersion seen, until the run is over.
  let watching = true;
  let lastRv = '';
  let current: AbortController | undefined;
  const onEvent = (phase: string, obj: IamServiceAccount) => {
    lastRv = obj.metadata.resourceVersion ?? lastRv;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (phase === 'DELETED') {
      deletedAt.set(key, performance.now());
      return;
    }
    const ready = findCondition(obj.status?.conditions, 'Ready');
    const gen = obj.metadata.generation ?? 0;
    if (ready?.status === 'True' && ready.observedGeneration === gen) {
      const m = readyAt.get(key) ?? new Map<number, number>();
      if (!m.has(gen)) m.set(gen, performance.now());
      readyAt.set(key, m);
    }
  };
  const startWatch = async (): Promise<void> => {
    current = await new Watch(kc).watch(
      `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      lastRv ? { resourceVersion: lastRv, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
      onEvent,
      () => {
        if (watching) setTimeout(() => void startWatch(), 100);
      },
    );
  };
  await startWatch();

  // Create at a steady rate.
  const keys = Array.from({ length: N }, (_, i) => ({ ns: namespaces[i % NAMESPACES] ?? 'bench-0', name: `app-${i}`, i }));
  const sentAt = new Map<string, number>();
  const callsBefore = (await fetchCalls(env.awsEndpoint)).length;
  const kubeWritesBefore = kubeWrites(env.auditLog);
  log(`creating ${N} objects at ${RATE}/s`);
  const tCreate = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const k of keys) {
    const due = tCreate + (k.i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(`${k.ns}/${k.name}`, performance.now());
    const p = api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: k.ns,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IamServiceAccount', metadata: { name: k.name }, spec: spec(k.i) },
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const deadline = Math.max(300_000, N * 200 + (WRITES_PER_SECOND > 0 ? (N * 3 * 1000) / WRITES_PER_SECOND : 0));
  await waitFor(`${N} objects Ready`, () => keys.every((k) => readyAt.get(`${k.ns}/${k.name}`)?.has(1)), deadline, 200);
  const tAllReady = performance.now();
  const readyMs = keys
    .map((k) => {
      const key = `${k.ns}/${k.name}`;
      return (readyAt.get(key)?.get(1) ?? NaN) - (sentAt.get(key) ?? NaN);
    })
    .sort((a, b) => a - b);
  // Let the last status writes' watch events be reconciled before counting. With many objects and
  // a short drift period the queue never empties (drift checks keep arriving): say so, go on.
  await waitFor(
    'the work queue to drain',
    async () => /irsa_workqueue_depth 0\b/.test(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()),
    60_000,
    200,
  ).catch(() => {
    log('the work queue did not drain within 60 s (drift checks outpace the workers); counting anyway');
  });
  const createCalls = (await fetchCalls(env.awsEndpoint)).slice(callsBefore);
  const iamCreateCalls = createCalls.filter((c) => c.service === 'iam');
  const kubeWritesCreate = kubeWrites(env.auditLog) - kubeWritesBefore;
  const createWindowS = (tAllReady - tCreate) / 1000;
  const iamWritesCreate = iamCreateCalls.filter(isWrite).length;
  log(`all Ready in ${createWindowS.toFixed(1)} s; IAM calls ${JSON.stringify(byOp(iamCreateCalls))}`);

  // At rest for two drift periods.
  const restCallsBefore = (await fetchCalls(env.awsEndpoint)).length;
  const restKubeBefore = kubeWrites(env.auditLog);
  log(`at rest for ${2 * DRIFT_S} s (two drift periods)`);
  await new Promise((r) => setTimeout(r, 2 * DRIFT_S * 1000 + 2000));
  const restCalls = (await fetchCalls(env.awsEndpoint)).slice(restCallsBefore);
  const writesAtRest = restCalls.filter(isWrite).length + (kubeWrites(env.auditLog) - restKubeBefore);
  const readsPerObjectPerPeriod = restCalls.filter((c) => !isWrite(c)).length / N / 2;

  // Update 10 %, delete another 10 %.
  const tenth = Math.max(1, Math.floor(N / 10));
  const toUpdate = keys.slice(0, tenth);
  const toDelete = keys.slice(tenth, 2 * tenth);
  const tChange = performance.now();
  // As many requests in flight as the create loop allows: more at once and the apiserver closes
  // the HTTP/2 connection.
  await pMap(
    toUpdate,
    (k) =>
      api.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: k.ns, plural: PLURAL, name: k.name, body: { spec: { tags: { bench: 'updated' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    { concurrency: MAX_IN_FLIGHT },
  );
  await pMap(
    toDelete,
    (k) => api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: k.ns, plural: PLURAL, name: k.name }),
    { concurrency: MAX_IN_FLIGHT },
  );
  await waitFor(
    'updates and deletes to converge',
    () => toUpdate.every((k) => readyAt.get(`${k.ns}/${k.name}`)?.has(2)) && toDelete.every((k) => deletedAt.has(`${k.ns}/${k.name}`)),
    deadline,
    200,
  );
  const updateMs = toUpdate.map((k) => (readyAt.get(`${k.ns}/${k.name}`)?.get(2) ?? NaN) - tChange).sort((a, b) => a - b);
  const deleteMs = toDelete.map((k) => (deletedAt.get(`${k.ns}/${k.name}`) ?? NaN) - tChange).sort((a, b) => a - b);

  // What the RSS is made of, from the operator's own default metrics.
  const metricsText = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metricsText)?.[1] ?? NaN) / 2 ** 20;
  const memory = {
    rssMb: gauge('irsa_process_resident_memory_bytes'),
    heapUsedMb: gauge('irsa_nodejs_heap_size_used_bytes'),
    heapTotalMb: gauge('irsa_nodejs_heap_size_total_bytes'),
    externalMb: gauge('irsa_nodejs_external_memory_bytes'),
  };
  clearInterval(sampler);
  watching = false;
  current?.abort();
  const last = procSample(pid);
  const cpuS = last.cpuS - cpuAtStart;
  stopping = true;
  await operator.stop();
  if (typeof cgroup !== 'string') {
    const kills = cgroup.oomKills();
    cgroup.remove();
    if (kills > 0) throw new Error(`the operator was OOM-killed ${kills} time(s) under the ${args['memory-limit']} limit`);
  }

  const result = {
    objects: N,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: {
      iamWritesPerSecond: WRITES_PER_SECOND,
      createRatePerSecond: RATE,
      driftPeriodSeconds: DRIFT_S,
      namespaces: NAMESPACES,
      memoryLimit: typeof cgroup === 'string' ? null : args['memory-limit'],
      runtimeEnv: RUNTIME_ENV,
    },
    ready: { p50: percentile(readyMs, 50), p90: percentile(readyMs, 90), p99: percentile(readyMs, 99), max: readyMs.at(-1) },
    createWindowSeconds: createWindowS,
    iam: {
      callsPerCreate: iamCreateCalls.length / N,
      writesPerCreate: iamWritesCreate / N,
      policiesPerCreate: POLICIES_PER_OBJECT,
      writesPerSecondDuringCreate: iamWritesCreate / createWindowS,
      budgetUse: WRITES_PER_SECOND > 0 ? iamWritesCreate / createWindowS / WRITES_PER_SECOND : null,
      byOperation: byOp(iamCreateCalls),
      // moto's own failures under load (HTTP 5xx; no faults are injected here): the operator
      // retried each, and the retries are in callsPerCreate.
      serverErrors: iamCreateCalls.filter((c) => c.status >= 500).length,
    },
    kubeWritesPerCreate: kubeWritesCreate / N,
    atRest: { writes: writesAtRest, readsPerObjectPerPeriod, byOperation: byOp(restCalls) },
    update: { count: toUpdate.length, p50: percentile(updateMs, 50), p99: percentile(updateMs, 99) },
    delete: { count: toDelete.length, p50: percentile(deleteMs, 50), p99: percentile(deleteMs, 99) },
    // The kernel's high-water mark also counts the peaks between two samples.
    rssMbMax: Math.max(last.hwmMb, ...samples.map((s) => s.mb)),
    memoryAtEnd: memory,
    cpuSeconds: cpuS,
  };
  writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify({ ...result, rss: samples, readyMs }, null, 1)}\n`);
  writeFileSync(
    join(OUT, 'bench.png'),
    plotPng({ title: `irsa-operator: ${N} objects, IAM writes/s ${WRITES_PER_SECOND || 'unlimited'}`, readyMs, rss: samples }),
  );
  log(JSON.stringify(result));
  console.log(
    `bench: objects=${N} ready_p50_ms=${Math.round(result.ready.p50)} ready_p99_ms=${Math.round(result.ready.p99)} iam_calls_per_create=${result.iam.callsPerCreate.toFixed(2)} writes_at_rest=${writesAtRest} reads_per_object_period=${readsPerObjectPerPeriod.toFixed(3)} rss_mb_max=${Math.round(result.rssMbMax)} cpu_s=${cpuS.toFixed(1)}`,
  );
} finally {
  await env.stop();
}
