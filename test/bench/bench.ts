// npm run bench -- --objects N [--identity IRSA|PodIdentity|Both] [--iam-writes-per-second R] [--out DIR] [--rate R] [--drift-seconds S] [--memory-limit Q|none] [--operator-env KEY=VALUE ...]
// Runs the operator as its own process against the local apiserver and moto, applies N mixed
// IamServiceAccounts at a steady rate, and measures time to Ready (create call -> Ready seen on a
// watch), AWS calls (at the counting proxy) and Kubernetes writes (apiserver audit log) per
// object, writes at rest over two drift periods, update/delete convergence, and the operator's
// RSS and CPU, with the image's and the Deployment's environment (the image's allocator, jemalloc,
// preloaded from this machine) and under the Deployment's memory limit (a memory cgroup, as the
// kubelet sets). Writes bench.json and bench.png into --out, and prints one summary line.
// With --compare ack [--ack-arg=FLAG ...] [--ack-memory-limit Q|none] it runs instead the ACK
// iam-controller and the operator side by side on role-only objects (compare.ts; it builds the
// controller first, `test/env/setup.sh ack`), and prints a line per side, the ratios and a
// `compare:` line.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, IDENTITY_MODES, PLURAL, VERSION, type IamServiceAccountSpec, type IdentityMode } from '../../src/api/types.ts';
import { fetchCalls, isWrite } from '../env/aws-proxy.ts';
import { createEksCluster, createOidcProvider, operatorKubeWrites, REPO, runKubectl, startEnv, type RunningEnv } from '../env/cluster.ts';
import { waitFor } from '../env/processes.ts';
import {
  byOp,
  createAtRate,
  keyOf,
  latenciesMs,
  MAX_IN_FLIGHT,
  objectKeys,
  percentile,
  procSample,
  rssMax,
  startSampler,
} from './measure.ts';
import { ACK_CHART_MEMORY_LIMIT, ensureAckBuilt, type AckBuild } from './ack.ts';
import { runCompare } from './compare.ts';
import { compareLine, floorLine, ratioLine, sideLine } from './compare-report.ts';
import { PRODUCTION, runtimeEnv, startOperator, watchReady } from './operator.ts';
import { plotPng } from './plot.ts';
import { formatSummary, summariseProfile } from './profile.ts';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '100' },
    // spec.identity of every object; PodIdentity and Both also count the EKS calls per create.
    identity: { type: 'string', default: 'IRSA' },
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
    // The operator's CPU profile (node --cpu-prof), summarised at the end: <out>/cpu-profile.txt.
    'cpu-prof': { type: 'boolean', default: false },
    // ack: instead of the full run, the ACK iam-controller and the operator side by side (compare.ts).
    compare: { type: 'string' },
    // Repeatable, with '=': --ack-arg=--reconcile-default-max-concurrent-syncs=8.
    'ack-arg': { type: 'string', multiple: true, default: [] },
    'ack-memory-limit': { type: 'string', default: ACK_CHART_MEMORY_LIMIT },
  },
});
if (args.compare !== undefined && args.compare !== 'ack')
  throw new Error(`--compare takes ack (the ACK iam-controller), not ${args.compare}`);
const IDENTITY = args.identity;
if (!(IDENTITY_MODES as readonly string[]).includes(IDENTITY))
  throw new Error(`--identity takes ${IDENTITY_MODES.join(', ')}, not ${IDENTITY}`);
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
const PROFILE_DIR = join(OUT, 'cpu-profile');
if (args['cpu-prof']) {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  OPERATOR_ENV.NODE_OPTIONS = [OPERATOR_ENV.NODE_OPTIONS, `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`].filter(Boolean).join(' ');
}
const RUNTIME_ENV = runtimeEnv(OPERATOR_ENV);
mkdirSync(OUT, { recursive: true });
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** The i-th object's spec, in the mode --identity asks for (Pod Identity needs a ServiceAccount: no roleOnly). */
function spec(i: number): IamServiceAccountSpec {
  const shape = shapeOf(i);
  if (IDENTITY === 'IRSA') return shape;
  const { roleOnly: _roleOnly, ...withServiceAccount } = shape;
  return { ...withServiceAccount, identity: IDENTITY as IdentityMode };
}

function shapeOf(i: number): IamServiceAccountSpec {
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
/** Every shape above asks for exactly one policy (managed or inline): the "+ policies" of the target. */
const POLICIES_PER_OBJECT = 1;

const kubeWrites = (auditLog: string): number => operatorKubeWrites(auditLog).length;

async function fullBench(env: RunningEnv): Promise<void> {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  for (const ns of namespaces) await runKubectl(env, ['create', 'namespace', ns]);

  // As in production: the compiled JavaScript (npm run bench builds it first), with the image's
  // and the Deployment's runtime environment, under its memory limit when this machine lets us make a
  // memory cgroup.
  const operator = await startOperator({
    env,
    logFile: join(OUT, 'operator.log'),
    runtimeEnv: RUNTIME_ENV,
    memoryLimit: args['memory-limit'],
    driftSeconds: DRIFT_S,
    iamWritesPerSecond: WRITES_PER_SECOND,
    log,
    onUnexpectedExit: (why) => {
      log(why);
      void env.stop().finally(() => process.exit(1));
    },
  });
  const sampler = startSampler(operator.pid);
  const cpuAtStart = procSample(operator.pid).cpuS;
  const kc = new KubeConfig();
  kc.loadFromFile(env.adminKubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const seen = await watchReady(kc);
  const { readyAt, deletedAt } = seen;

  // Create at a steady rate.
  const keys = objectKeys(N, namespaces);
  const callsBefore = (await fetchCalls(env.awsEndpoint)).length;
  const kubeWritesBefore = kubeWrites(env.auditLog);
  log(`creating ${N} objects at ${RATE}/s`);
  const { sentAt, tStart: tCreate } = await createAtRate(keys, RATE, (k) =>
    api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: k.ns,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IamServiceAccount', metadata: { name: k.name }, spec: spec(k.i) },
    }),
  );
  const deadline = Math.max(300_000, N * 200 + (WRITES_PER_SECOND > 0 ? (N * 3 * 1000) / WRITES_PER_SECOND : 0));
  await waitFor(`${N} objects Ready`, () => keys.every((k) => readyAt.get(keyOf(k))?.has(1)), deadline, 200);
  const tAllReady = performance.now();
  const readyMs = latenciesMs(keys, sentAt, (key) => readyAt.get(key)?.get(1));
  // Let the last status writes' watch events be reconciled before counting. With many objects and
  // a short drift period the queue never empties (drift checks keep arriving): say so, go on.
  await waitFor('the work queue to drain', async () => /irsa_workqueue_depth 0\b/.test(await operator.metrics()), 60_000, 200).catch(() => {
    log('the work queue did not drain within 60 s (drift checks outpace the workers); counting anyway');
  });
  const createCalls = (await fetchCalls(env.awsEndpoint)).slice(callsBefore);
  const iamCreateCalls = createCalls.filter((c) => c.service === 'iam');
  const eksCreateCalls = createCalls.filter((c) => c.service === 'eks');
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

  // Two bursts, one after the other so that each is measured alone: a tenth of the objects
  // updated at once (a tag added), then another tenth deleted at once. As many requests in flight
  // as the create loop allows: more at once and the apiserver closes the HTTP/2 connection.
  const tenth = Math.max(1, Math.floor(N / 10));
  const toUpdate = keys.slice(0, tenth);
  const toDelete = keys.slice(tenth, 2 * tenth);
  const callsBeforeUpdate = (await fetchCalls(env.awsEndpoint)).length;
  const tUpdate = performance.now();
  await pMap(
    toUpdate,
    (k) =>
      api.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: k.ns, plural: PLURAL, name: k.name, body: { spec: { tags: { bench: 'updated' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    { concurrency: MAX_IN_FLIGHT },
  );
  await waitFor('the updates to converge', () => toUpdate.every((k) => readyAt.get(keyOf(k))?.has(2)), deadline, 50);
  const updateMs = toUpdate.map((k) => (readyAt.get(keyOf(k))?.get(2) ?? NaN) - tUpdate).sort((a, b) => a - b);
  const callsBeforeDelete = (await fetchCalls(env.awsEndpoint)).length;
  const tDelete = performance.now();
  await pMap(
    toDelete,
    (k) => api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: k.ns, plural: PLURAL, name: k.name }),
    { concurrency: MAX_IN_FLIGHT },
  );
  await waitFor('the deletes to converge', () => toDelete.every((k) => deletedAt.has(keyOf(k))), deadline, 50);
  const deleteMs = toDelete.map((k) => (deletedAt.get(keyOf(k)) ?? NaN) - tDelete).sort((a, b) => a - b);
  const allCalls = await fetchCalls(env.awsEndpoint);
  // IAM calls of each burst, by operation (drift sweeps that fall inside a burst included).
  const updateCalls = allCalls.slice(callsBeforeUpdate, callsBeforeDelete).filter((c) => c.service === 'iam');
  const deleteCalls = allCalls.slice(callsBeforeDelete).filter((c) => c.service === 'iam');

  // What the RSS is made of, from the operator's own default metrics.
  const metricsText = await operator.metrics();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metricsText)?.[1] ?? NaN) / 2 ** 20;
  const memory = {
    rssMb: gauge('irsa_process_resident_memory_bytes'),
    heapUsedMb: gauge('irsa_nodejs_heap_size_used_bytes'),
    heapTotalMb: gauge('irsa_nodejs_heap_size_total_bytes'),
    externalMb: gauge('irsa_nodejs_external_memory_bytes'),
  };
  const last = sampler.stop();
  seen.stop();
  const cpuS = last.cpuS - cpuAtStart;
  await operator.stop();
  if (args['cpu-prof']) {
    const summary = formatSummary(summariseProfile(PROFILE_DIR, join(REPO, 'dist/main.mjs.map')));
    writeFileSync(join(OUT, 'cpu-profile.txt'), summary);
    log(`CPU profile (${PROFILE_DIR}), summarised in ${join(OUT, 'cpu-profile.txt')}:\n${summary}`);
  }

  const result = {
    objects: N,
    machine: machine(),
    settings: {
      identity: IDENTITY,
      iamWritesPerSecond: WRITES_PER_SECOND,
      createRatePerSecond: RATE,
      driftPeriodSeconds: DRIFT_S,
      namespaces: NAMESPACES,
      memoryLimit: typeof operator.cgroup === 'string' ? null : args['memory-limit'],
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
    eks: { callsPerCreate: eksCreateCalls.length / N, byOperation: byOp(eksCreateCalls) },
    kubeWritesPerCreate: kubeWritesCreate / N,
    atRest: { writes: writesAtRest, readsPerObjectPerPeriod, byOperation: byOp(restCalls) },
    update: {
      count: toUpdate.length,
      p50: percentile(updateMs, 50),
      p99: percentile(updateMs, 99),
      iamCallsPerObject: updateCalls.length / toUpdate.length,
      byOperation: byOp(updateCalls),
    },
    delete: {
      count: toDelete.length,
      p50: percentile(deleteMs, 50),
      p99: percentile(deleteMs, 99),
      iamCallsPerObject: deleteCalls.length / toDelete.length,
      byOperation: byOp(deleteCalls),
    },
    // The kernel's high-water mark also counts the peaks between two samples.
    rssMbMax: rssMax(last, sampler.samples),
    memoryAtEnd: memory,
    cpuSeconds: cpuS,
  };
  writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify({ ...result, rss: sampler.samples, readyMs }, null, 1)}\n`);
  writeFileSync(
    join(OUT, 'bench.png'),
    plotPng({ title: `irsa-operator: ${N} objects, IAM writes/s ${WRITES_PER_SECOND || 'unlimited'}`, readyMs, rss: sampler.samples }),
  );
  log(JSON.stringify(result));
  // Pod Identity: the same line with the mode and the EKS calls (the association) per create.
  const podIdentity = IDENTITY === 'IRSA' ? '' : ` identity=${IDENTITY} eks_calls_per_create=${result.eks.callsPerCreate.toFixed(2)}`;
  console.log(
    `bench: objects=${N}${podIdentity} ready_p50_ms=${Math.round(result.ready.p50)} ready_p99_ms=${Math.round(result.ready.p99)} iam_calls_per_create=${result.iam.callsPerCreate.toFixed(2)} writes_at_rest=${writesAtRest} reads_per_object_period=${readsPerObjectPerPeriod.toFixed(3)} update_p99_ms=${Math.round(result.update.p99)} delete_p99_ms=${Math.round(result.delete.p99)} rss_mb_max=${Math.round(result.rssMbMax)} cpu_s=${cpuS.toFixed(1)}`,
  );
}

function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** --compare ack: both sides, their figures into bench.json, one line each, the ratios and the compare: line. */
async function compareAck(env: RunningEnv, ack: AckBuild): Promise<void> {
  const onUnexpectedExit = (why: string) => {
    log(why);
    void env.stop().finally(() => process.exit(1));
  };
  const result = await runCompare({
    env,
    ack,
    out: OUT,
    objects: N,
    rate: RATE,
    namespaces: Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`),
    restSeconds: 2 * DRIFT_S + 2,
    ackArgs: args['ack-arg'],
    ackMemoryLimit: args['ack-memory-limit'],
    operator: { runtimeEnv: RUNTIME_ENV, memoryLimit: args['memory-limit'], driftSeconds: DRIFT_S, iamWritesPerSecond: WRITES_PER_SECOND },
    log,
    onUnexpectedExit,
  });
  const settings = {
    createRatePerSecond: RATE,
    driftPeriodSeconds: DRIFT_S,
    namespaces: NAMESPACES,
    ack: { commit: ack.commit, args: args['ack-arg'], memoryLimit: args['ack-memory-limit'] },
    operator: { memoryLimit: args['memory-limit'], iamWritesPerSecond: WRITES_PER_SECOND, runtimeEnv: RUNTIME_ENV },
  };
  writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify({ compare: result, machine: machine(), settings }, null, 1)}\n`);
  for (const side of [result.ack, result.irsa]) {
    const title = `${side.result.controller}: ${N} roles at ${RATE}/s (load ${side.load.before.toFixed(2)})`;
    writeFileSync(
      join(OUT, `compare-${side.result.controller}.png`),
      plotPng({ title, readyMs: side.syncedMs, rss: side.rss, doneLabel: 'synced', processLabel: side.result.controller }),
    );
    console.log(sideLine(side.result));
  }
  console.log(ratioLine(result.ratios));
  if (!result.sameRole) console.log('WARNING: the two sides made different roles (see bench.json)');
  console.log(compareLine(N, result.ack.result, result.irsa.result));
  console.log(floorLine(result.floor, result.ack.result, result.irsa.result));
}

const ackBuild = args.compare === 'ack' ? ensureAckBuilt(log) : undefined;
const env = await startEnv(log);
try {
  if (ackBuild) {
    await compareAck(env, ackBuild);
  } else {
    await createOidcProvider(env.motoUrl);
    if (IDENTITY !== 'IRSA') await createEksCluster(env.motoUrl);
    await fullBench(env);
  }
} finally {
  await env.stop();
}
