// Pods that predate their ServiceAccount's role annotations. The pod identity webhook mutates a
// pod only when it is created, so a pod started before the annotations changed keeps the old
// role (or none) until it is restarted. Pure: what a pod carries, what it should carry, which pods
// differ, and which workloads a restart would go through.
import { SA_ANNOTATIONS } from '../api/types.ts';

/** What the webhook put into a pod, as far as the role is concerned. */
export interface Injection {
  roleArn?: string | undefined;
  audience?: string | undefined;
  expirationSeconds?: number | undefined;
  /** AWS_STS_REGIONAL_ENDPOINTS (`regional` when the annotation asks for it). */
  regional?: string | undefined;
}

/** The controller of a pod: the workload `kubectl rollout restart` would patch, or what else owns it. */
export interface PodOwner {
  kind: string;
  name: string;
}

export interface PodView {
  name: string;
  /** Its controller (a ReplicaSet resolved to its Deployment); undefined for a bare pod. */
  owner?: PodOwner | undefined;
  injection: Injection;
}

/** The webhook's default token lifetime when the ServiceAccount names none. */
const DEFAULT_EXPIRATION_SECONDS = 86_400;

/** What a pod created now under a ServiceAccount with these annotations gets from the webhook. */
export function expectedInjection(annotations: Readonly<Record<string, string>>): Injection {
  const expiration = annotations[SA_ANNOTATIONS.tokenExpiration];
  return {
    roleArn: annotations[SA_ANNOTATIONS.roleArn],
    audience: annotations[SA_ANNOTATIONS.audience],
    expirationSeconds: expiration === undefined ? DEFAULT_EXPIRATION_SECONDS : Number(expiration),
    regional: annotations[SA_ANNOTATIONS.stsRegionalEndpoints] === 'true' ? 'regional' : undefined,
  };
}

export function injectionDiffers(actual: Injection, expected: Injection): boolean {
  return (
    actual.roleArn !== expected.roleArn ||
    actual.audience !== expected.audience ||
    actual.expirationSeconds !== expected.expirationSeconds ||
    actual.regional !== expected.regional
  );
}

/** Whether the annotations a pod's injection comes from differ (undefined: no ServiceAccount yet). */
export function roleAnnotationsDiffer(
  before: Readonly<Record<string, string>> | undefined,
  after: Readonly<Record<string, string>>,
): boolean {
  return before === undefined || Object.values(SA_ANNOTATIONS).some((k) => before[k] !== after[k]);
}

/** Kinds `kubectl rollout restart` restarts by patching the pod template. */
export const RESTARTABLE_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export interface StalePlan {
  stale: PodView[];
  /** Workloads to restart, each once. */
  workloads: PodOwner[];
  /** Stale pods no restart can reach: bare pods and pods of other controllers (Jobs, ...). */
  unreachable: PodView[];
}

export function planRestarts(pods: readonly PodView[], expected: Injection): StalePlan {
  const stale = pods.filter((p) => injectionDiffers(p.injection, expected));
  const workloads = new Map<string, PodOwner>();
  const unreachable: PodView[] = [];
  for (const p of stale) {
    if (p.owner && RESTARTABLE_KINDS.has(p.owner.kind)) workloads.set(`${p.owner.kind}/${p.owner.name}`, p.owner);
    else unreachable.push(p);
  }
  return { stale, workloads: [...workloads.values()], unreachable };
}

/** `Deployment/web (2 pods), Pod/debug`: who holds the stale pods, for an Event. */
export function describeOwners(stale: readonly PodView[]): string {
  const counts = new Map<string, number>();
  for (const p of stale) {
    const key = p.owner ? `${p.owner.kind}/${p.owner.name}` : `Pod/${p.name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${key} (${n} pods)` : key)).join(', ');
}
