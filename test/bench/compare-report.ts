// `npm run bench -- --compare ack`: what each side's run is summed up to, how the two are set side
// by side, the ACK custom resource's synced signal, and the objects both sides get. Pure.
import type { IamServiceAccountSpec } from '../../src/api/types.ts';
import { STS_AUDIENCE } from '../../src/policy/audience.ts';
import { issuerHostPath, oidcProviderArn } from '../../src/policy/arn.ts';
import { deriveRoleName } from '../../src/policy/naming.ts';
import { buildTrustPolicy } from '../../src/policy/trust.ts';
import { TEST_ACCOUNT, TEST_CLUSTER, TEST_ISSUER } from '../env/cluster.ts';
import type { AckRoleSpec } from './ack.ts';
import type { Floor } from './floor.ts';
import { percentile } from './measure.ts';

/** ACK's "the AWS resource matches the spec" condition; its Ready follows it. */
export const ACK_SYNCED = 'ACK.ResourceSynced';

/** An ACK condition (runtime's apis/core/v1alpha1 Condition): no observedGeneration. */
export interface AckCondition {
  type: string;
  status: string;
  reason?: string | null;
  message?: string | null;
}

export interface AckObject {
  status?: { conditions?: AckCondition[] | null } | null;
}

/** Whether an ACK resource shows ACK.ResourceSynced=True. */
export function ackSynced(obj: AckObject): boolean {
  return (obj.status?.conditions ?? []).some((c) => c.type === ACK_SYNCED && c.status === 'True');
}

/** An ACK resource's conditions as `Type=Status` (sorted), for saying where the unsynced ones are stuck. */
export function ackConditionSummary(obj: AckObject): string {
  const conditions = (obj.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();
  return conditions.length === 0 ? 'no conditions' : conditions.join(',');
}

export interface Latencies {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles of an ascending array of milliseconds. */
export function latencies(sortedMs: number[]): Latencies {
  return { p50: percentile(sortedMs, 50), p90: percentile(sortedMs, 90), p99: percentile(sortedMs, 99), max: sortedMs.at(-1) ?? NaN };
}

/** One controller's run: N objects created at the rate, until each is synced, then at rest. */
export interface SideResult {
  controller: string;
  objects: number;
  /** From the create call to the bench's watch seeing the object synced (ACK.ResourceSynced=True; Ready=True at generation 1). */
  syncedMs: Latencies;
  /** From the first create to the last object synced. */
  wallSeconds: number;
  iam: { calls: number; callsPerObject: number; writesPerObject: number; serverErrors: number; byOperation: Record<string, number> };
  kubeWritesPerObject: number;
  atRest: { windowSeconds: number; calls: number; writes: number; kubeWrites: number; byOperation: Record<string, number> };
  /** RSS before the first create, and the most seen (the kernel's high-water mark included). */
  rssMbStart: number;
  rssMbMax: number;
  /** CPU used from the first create until the controller's queue was empty, and then at rest. */
  cpuSecondsCreate: number;
  cpuSecondsAtRest: number;
}

/** a / b, or null when it means nothing (b is 0, or either is not a number). */
export function ratio(a: number, b: number): number | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

export interface Ratios {
  syncedP50: number | null;
  syncedP99: number | null;
  wall: number | null;
  callsPerObject: number | null;
  rssMax: number | null;
  cpuCreate: number | null;
}

/** Each figure of `irsa` over the same figure of `ack`: below 1 is less time, fewer calls, less memory. */
export function ratios(ack: SideResult, irsa: SideResult): Ratios {
  return {
    syncedP50: ratio(irsa.syncedMs.p50, ack.syncedMs.p50),
    syncedP99: ratio(irsa.syncedMs.p99, ack.syncedMs.p99),
    wall: ratio(irsa.wallSeconds, ack.wallSeconds),
    callsPerObject: ratio(irsa.iam.callsPerObject, ack.iam.callsPerObject),
    rssMax: ratio(irsa.rssMbMax, ack.rssMbMax),
    cpuCreate: ratio(irsa.cpuSecondsCreate, ack.cpuSecondsCreate),
  };
}

const fixed = (v: number | null, digits: number): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));

/** `ratios irsa/ack: synced_p50=… …`. */
export function ratioLine(r: Ratios): string {
  const parts = [
    `synced_p50=${fixed(r.syncedP50, 3)}`,
    `synced_p99=${fixed(r.syncedP99, 3)}`,
    `wall=${fixed(r.wall, 3)}`,
    `calls_per_object=${fixed(r.callsPerObject, 3)}`,
    `rss_max=${fixed(r.rssMax, 3)}`,
    `cpu=${fixed(r.cpuCreate, 3)}`,
  ];
  return `ratios irsa/ack: ${parts.join(' ')}`;
}

/** One side in one line: `side <controller>: synced_p50_ms=… …`. */
export function sideLine(s: SideResult): string {
  return [
    `side ${s.controller}:`,
    `synced_p50_ms=${Math.round(s.syncedMs.p50)}`,
    `synced_p99_ms=${Math.round(s.syncedMs.p99)}`,
    `wall_s=${fixed(s.wallSeconds, 1)}`,
    `iam_calls_per_object=${fixed(s.iam.callsPerObject, 2)}`,
    `kube_writes_per_object=${fixed(s.kubeWritesPerObject, 2)}`,
    `calls_at_rest=${s.atRest.calls}/${Math.round(s.atRest.windowSeconds)}s`,
    `rss_mb_max=${Math.round(s.rssMbMax)}`,
    `cpu_s=${fixed(s.cpuSecondsCreate, 1)}`,
  ].join(' ');
}

/** The issue's summary line: `compare: n=N ack_p50_ms=… irsa_p50_ms=… …`. */
export function compareLine(n: number, ack: SideResult, irsa: SideResult): string {
  return [
    `compare: n=${n}`,
    `ack_p50_ms=${Math.round(ack.syncedMs.p50)}`,
    `irsa_p50_ms=${Math.round(irsa.syncedMs.p50)}`,
    `ack_calls_per_object=${fixed(ack.iam.callsPerObject, 2)}`,
    `irsa_calls_per_object=${fixed(irsa.iam.callsPerObject, 2)}`,
    `ack_rss_mb=${Math.round(ack.rssMbMax)}`,
    `irsa_rss_mb=${Math.round(irsa.rssMbMax)}`,
  ].join(' ');
}

/**
 * What Node and the AWS SDK take before the operator's code, against both sides' peaks:
 * `floor: node_mb=… node_iam_sdk_mb=… ack_rss_mb=… irsa_rss_mb=… node_iam_sdk_over_ack=…`.
 */
export function floorLine(floor: Floor, ack: SideResult, irsa: SideResult): string {
  return [
    'floor:',
    `node_mb=${Math.round(floor.nodeMb)}`,
    `node_iam_sdk_mb=${Math.round(floor.iamSdkMb)}`,
    `ack_rss_mb=${Math.round(ack.rssMbMax)}`,
    `irsa_rss_mb=${Math.round(irsa.rssMbMax)}`,
    `node_iam_sdk_over_ack=${fixed(ratio(floor.iamSdkMb, ack.rssMbMax), 2)}`,
  ].join(' ');
}

/** The managed policy both sides attach. */
export const COMPARE_POLICY_ARN = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';

/** The roleOnly IamServiceAccount spec of the operator's side. */
export const irsaCompareSpec = (): IamServiceAccountSpec => ({ roleOnly: true, attachPolicyARNs: [COMPARE_POLICY_ARN] });

/**
 * The ACK Role for the IamServiceAccount `namespace/name` of irsaCompareSpec: the role the operator
 * writes for it (name, description, trust, managed policy, session length) in the test cluster.
 */
export function ackRoleSpec(namespace: string, name: string): AckRoleSpec {
  const hostPath = issuerHostPath(TEST_ISSUER);
  const trust = buildTrustPolicy({
    oidcProviderArn: oidcProviderArn('aws', TEST_ACCOUNT, hostPath),
    issuerHostPath: hostPath,
    namespace,
    serviceAccountName: name,
    audience: STS_AUDIENCE,
  });
  return {
    name: deriveRoleName('', TEST_CLUSTER, namespace, name),
    description: `IRSA role for ServiceAccount ${namespace}/${name} in cluster ${TEST_CLUSTER}`,
    assumeRolePolicyDocument: JSON.stringify(trust),
    policies: [COMPARE_POLICY_ARN],
    maxSessionDuration: 3600,
  };
}

/** A Prometheus text sample's labels and value; label values here hold no `"` or `}`. */
function samples(metrics: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] ?? '', l[2] ?? '']));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

/**
 * From a controller-runtime /metrics page: undefined while `controller` has not started its
 * workers, else whether it is idle: no worker busy and no item ready in its queue (every
 * workqueue_depth series of it, one per priority, at 0; an item waiting for a later requeue is not
 * counted there).
 */
export function controllerIdle(metrics: string, controller: string): boolean | undefined {
  const workers = samples(metrics, 'controller_runtime_active_workers').find((s) => s.labels.controller === controller);
  if (workers === undefined) return undefined;
  const depth = samples(metrics, 'workqueue_depth')
    .filter((s) => s.labels.controller === controller)
    .reduce((sum, s) => sum + s.value, 0);
  return workers.value === 0 && depth === 0;
}

/**
 * Whether a controller-runtime log (JSON lines, as the ACK controller writes them) says
 * `controller` has started its workers: only then are its caches synced and objects reconciled
 * (its metrics exist from the controller's start, before the caches sync).
 */
export function workersStarted(log: string, controller: string): boolean {
  return log.split('\n').some((line) => {
    if (!line.includes('Starting workers')) return false;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; controller?: unknown };
      return entry.msg === 'Starting workers' && entry.controller === controller;
    } catch {
      return false;
    }
  });
}
