// Pods that run without the role their ServiceAccount now names: found with an on-demand list of
// the ServiceAccount's pods (a field selector, no cluster-wide pod cache, so memory does not grow
// with the cluster), reported in status, a Warning Event and a metric, and restarted through their
// workload as `kubectl rollout restart` does when the object and the operator's configuration
// both ask for it. A bare pod is never deleted.
import type { PodsNeedingRestart } from '../api/types.ts';
import type { WriteBudget } from '../aws/budget.ts';
import type { DesiredServiceAccount } from '../policy/desired.ts';
import { describeOwners, expectedInjection, planRestarts, type PodOwner } from '../policy/pods.ts';
import type { EventRecorder } from './events.ts';
import type { Pass } from './part.ts';
import type { KubeReads, KubeWrites } from './ports.ts';
import { TtlCache } from './ttl-cache.ts';

/** How many pod names status lists. */
const LISTED_PODS = 5;
/** A workload restarted is not restarted again for this long (its rollout takes time). */
const RESTART_MEMO_MS = 10 * 60_000;

export type StalePodsMode = 'off' | 'report' | 'restart';

export interface PodRestartsDeps {
  kube: Pick<KubeReads, 'listPods' | 'replicaSetOwner'> & Pick<KubeWrites, 'restartWorkload'>;
  events: EventRecorder;
  mode: StalePodsMode;
  /** Restarts across all objects; a restart over budget waits for the next check. */
  budget: WriteBudget;
  now: () => number;
}

export class PodRestarts {
  private readonly deps: PodRestartsDeps;
  private readonly restarted: TtlCache<string, true>;

  constructor(deps: PodRestartsDeps) {
    this.deps = deps;
    this.restarted = new TtlCache(RESTART_MEMO_MS, deps.now);
  }

  get enabled(): boolean {
    return this.deps.mode !== 'off';
  }

  /** The ServiceAccount's pods that run without its role annotations; restarts their workloads if asked. */
  async check(pass: Pass, sa: DesiredServiceAccount): Promise<PodsNeedingRestart | undefined> {
    const ns = pass.obj.metadata.namespace;
    const pods = await this.deps.kube.listPods(ns, sa.name);
    for (const p of pods) {
      if (p.owner?.kind === 'ReplicaSet') p.owner = (await this.deps.kube.replicaSetOwner(ns, p.owner.name)) ?? p.owner;
    }
    const plan = planRestarts(pods, expectedInjection(sa.annotations));
    if (plan.stale.length === 0) return undefined;
    const previous = pass.obj.status?.podsNeedingRestart?.count;
    if (previous !== plan.stale.length) {
      const fix =
        this.deps.mode === 'restart' && pass.obj.spec.restartPods === true
          ? 'the operator restarts their workloads'
          : 'restart them (kubectl rollout restart), or set spec.restartPods where the operator allows it';
      this.deps.events.record(
        pass.obj,
        pass.log,
        'Warning',
        'PodsNeedRestart',
        `${plan.stale.length} pods of ServiceAccount ${sa.name} started before its role annotations and run without them: ${describeOwners(plan.stale)}: ${fix}`,
      );
    }
    if (this.deps.mode === 'restart' && pass.obj.spec.restartPods === true) await this.restart(pass, plan.workloads);
    return { count: plan.stale.length, pods: plan.stale.slice(0, LISTED_PODS).map((p) => p.name) };
  }

  private async restart(pass: Pass, workloads: readonly PodOwner[]): Promise<void> {
    const ns = pass.obj.metadata.namespace;
    for (const w of workloads) {
      const key = `${ns}/${w.kind}/${w.name}`;
      if (this.restarted.get(key)) continue;
      if (!this.deps.budget.tryTake()) {
        pass.log.info('pod restarts over budget; the next check goes on', { workload: `${w.kind}/${w.name}` });
        return;
      }
      await this.deps.kube.restartWorkload(ns, w, new Date(this.deps.now()).toISOString());
      this.restarted.set(key, true);
      pass.done.push({ reason: 'WorkloadRestarted', message: `restarted ${w.kind}/${w.name} so that its pods get the role` });
    }
  }
}
