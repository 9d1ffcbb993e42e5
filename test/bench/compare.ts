// `npm run bench -- --compare ack`: the ACK iam-controller and this operator, one after the other
// on the same environment (apiserver, moto behind the counting proxy; moto reset between the two),
// each given N role-only objects at the same rate with the same trust and the same managed
// policy. Per side: time to synced, IAM calls and Kubernetes writes per object, calls at rest, RSS
// and CPU of the controller's process.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';
import { fetchCalls, isWrite } from '../env/aws-proxy.ts';
import { createOidcProvider, kubeWritesBy, PEER_USER, runKubectl, TEST_REGION, type RunningEnv } from '../env/cluster.ts';
import { waitFor } from '../env/processes.ts';
import { ACK_GROUP, ACK_ROLES, ACK_VERSION, ackRole, installAckCrds, startAck, type AckBuild, type RunningAck } from './ack.ts';
import { measureFloor, type Floor } from './floor.ts';
import {
  ackConditionSummary,
  ackRoleSpec,
  ackSynced,
  irsaCompareSpec,
  latencies,
  ratios,
  type AckObject,
  type Ratios,
  type SideResult,
} from './compare-report.ts';
import {
  byOp,
  createAtRate,
  keyOf,
  latenciesMs,
  objectKeys,
  procSample,
  restartableWatch,
  rssMax,
  startSampler,
  type ObjectKey,
  type RssSample,
} from './measure.ts';
import { startOperator, watchReady, type OperatorOptions } from './operator.ts';

export interface CompareOptions {
  env: RunningEnv;
  ack: AckBuild;
  out: string;
  objects: number;
  rate: number;
  namespaces: string[];
  /** How long each side is watched at rest once all its objects are synced. */
  restSeconds: number;
  ackArgs: string[];
  ackMemoryLimit: string;
  /** The operator as the bench runs it (operator.ts). */
  operator: Pick<OperatorOptions, 'runtimeEnv' | 'memoryLimit' | 'driftSeconds' | 'iamWritesPerSecond'>;
  log: (line: string) => void;
  /** A controller died: the run has no figures. */
  onUnexpectedExit: (why: string) => void;
}

/** A side's run, with the raw figures kept for bench.json and the plots. */
export interface SideRun {
  result: SideResult;
  syncedMs: number[];
  rss: RssSample[];
  /** The 1-minute load average before and after the side ran. */
  load: { before: number; after: number };
  /** The first object's role as IAM (moto) holds it, for checking both sides made the same role. */
  role: RoleSeen;
}

export interface RoleSeen {
  trust: unknown;
  policies: string[];
  maxSessionDuration: number | undefined;
  description: string | undefined;
}

export interface CompareResult {
  objects: number;
  rate: number;
  loadBefore: number[];
  ack: SideRun;
  irsa: SideRun;
  ratios: Ratios;
  /** Whether the two sides made the same role (trust, managed policies, session length, description). */
  sameRole: boolean;
  /** Node and the AWS SDK alone, with the operator's flags and allocator (floor.ts). */
  floor: Floor;
}

/** What measureSide needs of one controller. */
interface Side {
  controller: string;
  kubeUser: string;
  pid: number;
  create: (k: ObjectKey) => Promise<unknown>;
  /** When the bench's watch first saw the object synced. */
  syncedAt: (key: string) => number | undefined;
  /** Where the objects not yet synced are, for the error when they never are. */
  stuck: () => string;
  queueEmpty: () => Promise<boolean>;
}

interface Measured {
  result: SideResult;
  syncedMs: number[];
  rss: RssSample[];
}

/** Creates the objects at the rate, waits for each to be synced and the queue empty, then watches the side at rest. */
async function measureSide(o: CompareOptions, side: Side): Promise<Measured> {
  const { env, log } = o;
  const keys = objectKeys(o.objects, o.namespaces);
  const sampler = startSampler(side.pid);
  const start = procSample(side.pid);
  const callsBefore = (await fetchCalls(env.awsEndpoint)).length;
  const kubeBefore = kubeWritesBy(env.auditLog, side.kubeUser).length;
  log(`${side.controller}: creating ${o.objects} objects at ${o.rate}/s`);
  const { sentAt, tStart } = await createAtRate(keys, o.rate, side.create);
  const deadline = Math.max(300_000, o.objects * 1000);
  await waitFor(`${o.objects} objects synced`, () => keys.every((k) => side.syncedAt(keyOf(k)) !== undefined), deadline, 200).catch(
    (e: unknown) => {
      throw new Error(`${side.controller}: ${(e as Error).message}; not synced: ${side.stuck()}`);
    },
  );
  const wallSeconds = (performance.now() - tStart) / 1000;
  await waitFor(`the ${side.controller} work queue to drain`, side.queueEmpty, 60_000, 200).catch(() => {
    log(`${side.controller}: the work queue did not drain within 60 s; counting anyway`);
  });
  const iamCalls = (await fetchCalls(env.awsEndpoint)).slice(callsBefore).filter((c) => c.service === 'iam');
  const kubeWrites = kubeWritesBy(env.auditLog, side.kubeUser).length - kubeBefore;
  const cpuCreated = procSample(side.pid).cpuS;
  log(`${side.controller}: all synced in ${wallSeconds.toFixed(1)} s; IAM calls ${JSON.stringify(byOp(iamCalls))}`);

  // At rest: a measurement window, not a wait for anything.
  const restBefore = (await fetchCalls(env.awsEndpoint)).length;
  const restKubeBefore = kubeWritesBy(env.auditLog, side.kubeUser).length;
  log(`${side.controller}: at rest for ${o.restSeconds} s`);
  await new Promise((r) => setTimeout(r, o.restSeconds * 1000));
  const restCalls = (await fetchCalls(env.awsEndpoint)).slice(restBefore);
  const last = sampler.stop();
  const syncedMs = latenciesMs(keys, sentAt, side.syncedAt);
  const result: SideResult = {
    controller: side.controller,
    objects: o.objects,
    syncedMs: latencies(syncedMs),
    wallSeconds,
    iam: {
      calls: iamCalls.length,
      callsPerObject: iamCalls.length / o.objects,
      writesPerObject: iamCalls.filter(isWrite).length / o.objects,
      serverErrors: iamCalls.filter((c) => c.status >= 500).length,
      byOperation: byOp(iamCalls),
    },
    kubeWritesPerObject: kubeWrites / o.objects,
    atRest: {
      windowSeconds: o.restSeconds,
      calls: restCalls.length,
      writes: restCalls.filter(isWrite).length,
      kubeWrites: kubeWritesBy(env.auditLog, side.kubeUser).length - restKubeBefore,
      byOperation: byOp(restCalls),
    },
    rssMbStart: start.rssMb,
    rssMbMax: rssMax(last, sampler.samples),
    cpuSecondsCreate: cpuCreated - start.cpuS,
    cpuSecondsAtRest: last.cpuS - cpuCreated,
  };
  return { result, syncedMs, rss: sampler.samples };
}

function adminApi(env: RunningEnv): { kc: KubeConfig; api: CustomObjectsApi } {
  const kc = new KubeConfig();
  kc.loadFromFile(env.adminKubeconfig);
  return { kc, api: kc.makeApiClient(CustomObjectsApi) };
}

/** The first object's role, read from moto directly (not through the counting proxy). */
async function readRole(env: RunningEnv, roleName: string): Promise<RoleSeen> {
  const iam = new IAMClient({
    region: TEST_REGION,
    endpoint: env.motoUrl,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
    const doc = role?.AssumeRolePolicyDocument ?? '';
    return {
      trust: JSON.parse(decodeURIComponent(doc)) as unknown,
      policies: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort(),
      maxSessionDuration: role?.MaxSessionDuration,
      description: role?.Description,
    };
  } finally {
    iam.destroy();
  }
}

async function ackSide(o: CompareOptions): Promise<Measured> {
  const { env, log } = o;
  await installAckCrds(env, o.ack.crds);
  const ack = await startAck({
    env,
    binary: o.ack.binary,
    logFile: join(o.out, 'ack.log'),
    extraArgs: o.ackArgs,
    memoryLimit: o.ackMemoryLimit,
    log,
    onUnexpectedExit: o.onUnexpectedExit,
  });
  try {
    return await measureAck(o, ack);
  } finally {
    await ack.stop();
  }
}

async function measureAck(o: CompareOptions, ack: RunningAck): Promise<Measured> {
  const { kc, api } = adminApi(o.env);
  const syncedAt = new Map<string, number>();
  const lastSeen = new Map<string, AckObject>();
  const watch = await restartableWatch(
    kc,
    `/apis/${ACK_GROUP}/${ACK_VERSION}/${ACK_ROLES}`,
    (_phase, obj: AckObject & { metadata: { namespace?: string; name?: string } }) => {
      const key = keyOf({ ns: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' });
      lastSeen.set(key, obj);
      if (ackSynced(obj) && !syncedAt.has(key)) syncedAt.set(key, performance.now());
    },
  );
  try {
    return await measureSide(o, {
      controller: 'ack',
      kubeUser: PEER_USER.name,
      pid: ack.pid,
      create: (k) =>
        api.createNamespacedCustomObject({
          group: ACK_GROUP,
          version: ACK_VERSION,
          namespace: k.ns,
          plural: ACK_ROLES,
          body: ackRole(k.ns, k.name, ackRoleSpec(k.ns, k.name)),
        }),
      syncedAt: (key) => syncedAt.get(key),
      stuck: () => stuckSummary([...lastSeen].filter(([key]) => !syncedAt.has(key)).map(([, obj]) => ackConditionSummary(obj))),
      queueEmpty: ack.roleQueueEmpty,
    });
  } finally {
    watch.stop();
  }
}

/** How many objects are in each state: `3 × ACK.Recoverable=True,…; …`. */
function stuckSummary(states: string[]): string {
  const counts = states.reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
  const parts = Object.entries(counts).map(([s, n]) => `${n} × ${s}`);
  return parts.length === 0 ? 'none seen on the watch' : parts.join('; ');
}

async function irsaSide(o: CompareOptions): Promise<Measured> {
  const { env, log } = o;
  const operator = await startOperator({
    ...o.operator,
    env,
    logFile: join(o.out, 'operator.log'),
    log,
    onUnexpectedExit: o.onUnexpectedExit,
  });
  const { kc, api } = adminApi(env);
  const seen = await watchReady(kc);
  try {
    return await measureSide(o, {
      controller: 'irsa',
      kubeUser: 'irsa-operator',
      pid: operator.pid,
      create: (k) =>
        api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: k.ns,
          plural: PLURAL,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IamServiceAccount', metadata: { name: k.name }, spec: irsaCompareSpec() },
        }),
      syncedAt: (key) => seen.readyAt.get(key)?.get(1),
      stuck: () => `${o.objects - seen.readyAt.size} not Ready at generation 1`,
      queueEmpty: async () => /irsa_workqueue_depth 0\b/.test(await operator.metrics()),
    });
  } finally {
    seen.stop();
    await operator.stop();
  }
}

/** Empties moto (every account, every service) and gives it the cluster's OIDC provider again. */
async function resetMoto(env: RunningEnv): Promise<void> {
  const res = await fetch(`${env.motoUrl}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`resetting moto failed: ${res.status}`);
  await createOidcProvider(env.motoUrl);
}

/** Runs one side between two load readings, and reads back the first object's role. */
async function runSide(o: CompareOptions, run: (o: CompareOptions) => Promise<Measured>): Promise<SideRun> {
  const before = loadavg()[0] ?? NaN;
  const measured = await run(o);
  const after = loadavg()[0] ?? NaN;
  const first = objectKeys(1, o.namespaces)[0] ?? { ns: 'bench-0', name: 'app-0' };
  const role = await readRole(o.env, ackRoleSpec(first.ns, first.name).name);
  return { ...measured, load: { before, after }, role };
}

/** ACK first, then the operator, each on a fresh moto. */
export async function runCompare(o: CompareOptions): Promise<CompareResult> {
  const loadBefore = loadavg();
  for (const ns of o.namespaces) {
    const r = await runKubectl(o.env, ['create', 'namespace', ns]);
    if (r.code !== 0) throw new Error(`kubectl create namespace ${ns} failed: ${r.stderr}`);
  }
  await resetMoto(o.env);
  const ack = await runSide(o, ackSide);
  await resetMoto(o.env);
  const irsa = await runSide(o, irsaSide);
  const sameRole = isDeepStrictEqual(ack.role, irsa.role);
  if (!sameRole) o.log(`the two sides made different roles: ACK ${JSON.stringify(ack.role)}, operator ${JSON.stringify(irsa.role)}`);
  o.log('the floor: node alone, and node with the IAM client after one call');
  const floor = await measureFloor(o.env.motoUrl, o.operator.runtimeEnv);
  return { objects: o.objects, rate: o.rate, loadBefore, ack, irsa, ratios: ratios(ack.result, irsa.result), sameRole, floor };
}
