// reconcile(key): read the object, compute what it asks for, let each part (the role, the
// ServiceAccount) observe, decide and apply, write status only when it changed, and tell the
// work queue when to look again. Level-based and idempotent. The parts live in their own modules;
// this file is the skeleton: finalize or sync, the status write, the verdict.
import { randomUUID } from 'node:crypto';
import { FINALIZER, type IamServiceAccount, type IamServiceAccountSpec, type PodsNeedingRestart } from '../api/types.ts';
import type { EventReason, Reason } from '../api/reasons.ts';
import { WriteBudget } from '../aws/budget.ts';
import { isAccessDenied } from '../aws/errors.ts';
import { errorMessage, TerminalError, WaitError } from '../errors.ts';
import { isKubeStatus } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import { identityIn, targetAccount } from '../policy/accounts.ts';
import { audienceNotAllowed, defaultAudience, STS_AUDIENCE } from '../policy/audience.ts';
import { desiredState, type ClusterIdentity, type DesiredServiceAccount, type RoleDefaults } from '../policy/desired.ts';
import { roleAnnotationsDiffer } from '../policy/pods.ts';
import type { DeniedAction } from '../policy/actions.ts';
import type { OperatorPolicy } from '../policy/guard.ts';
import type { SpecProblem } from '../api/validate.ts';
import { Admission } from './admission.ts';
import { findCondition } from './conditions.ts';
import { EventRecorder } from './events.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import { failed, failurePart, verdictFor, type PartResult, type QueueVerdict } from './outcome.ts';
import { syncPart, type Done, type Pass } from './part.ts';
import { DriftSweep } from './drift.ts';
import type { AccountAccess, KubeReads, KubeWrites, ObjectCache } from './ports.ts';
import { PodRestarts, type StalePodsMode } from './pods.ts';
import { Providers, type ProviderManagement } from './providers.ts';
import { RolePart, type RoleWant } from './role.ts';
import { ServiceAccountPart } from './serviceaccount.ts';
import { buildStatus, readyOf, statusFields, type Outcome } from './status.ts';

export interface ReconcilerDeps extends AccountAccess {
  kube: KubeReads & KubeWrites;
  cache: ObjectCache;
  /** The accounts besides the operator's own (its configuration's accounts); undefined for any other. */
  accounts?: ((account: string) => AccountAccess | undefined) | undefined;
  /** The cluster's identity (STS, EKS or the configuration); the caller caches it. */
  identity: () => Promise<ClusterIdentity>;
  /** manageOidcProvider: the operator creates and keeps the cluster's OIDC provider. */
  provider?: ProviderManagement | undefined;
  log: Logger;
}

export interface ReconcilerOptions {
  policy: OperatorPolicy;
  /** The audience of objects that name none; unset: the STS audience the OIDC provider lists. */
  defaultAudience?: string | undefined;
  /** Pods that predate their ServiceAccount's role annotations (default off). */
  stalePods?: StalePodsMode;
  podRestartsPerMinute?: number;
  /** The policy's denied actions, resolved against IAM's action list (policy/actions.ts). */
  denied: readonly DeniedAction[];
  roleDefaults: RoleDefaults;
  adoptExistingRoles: boolean;
  driftPeriodMs: number;
  /** How long to wait before looking again at something that is expected to appear. */
  waitMs: number;
  now?: () => Date;
  random?: () => number;
}

/** While pods wait for a restart, the object is looked at again this soon. */
const STALE_PODS_RECHECK_MS = 60_000;

const WAITING_FOR_ROLE: PartResult = {
  outcome: { state: 'progressing', reason: 'WaitingForRole', message: 'the ServiceAccount is annotated once the role is in sync' },
  backoff: false,
};

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  private readonly opts: ReconcilerOptions;
  private readonly events: EventRecorder;
  private readonly admission: Admission;
  private readonly providers: Providers;
  private readonly role: RolePart;
  private readonly pods: PodRestarts;
  /** One drift sweep per account, made when first needed. */
  private readonly drifts = new Map<string, DriftSweep>();
  private readonly serviceAccount: ServiceAccountPart;

  constructor(deps: ReconcilerDeps, opts: ReconcilerOptions) {
    this.deps = deps;
    this.opts = opts;
    const now = () => this.now().getTime();
    this.events = new EventRecorder(deps.kube, () => this.now());
    this.admission = new Admission({
      policy: opts.policy,
      denied: opts.denied,
      kube: deps.kube,
      cache: deps.cache,
      now,
    });
    this.providers = new Providers(opts.driftPeriodMs, now, deps.provider);
    this.role = new RolePart({
      ...deps,
      ...opts,
      rolesIn: (account, own) => this.access(account, own)?.roles,
      admission: this.admission,
      events: this.events,
      now,
    });
    this.serviceAccount = new ServiceAccountPart(deps);
    this.pods = new PodRestarts({
      kube: deps.kube,
      events: this.events,
      mode: opts.stalePods ?? 'off',
      budget: new WriteBudget((opts.podRestartsPerMinute ?? 10) / 60),
      now,
    });
  }

  async reconcile(key: string): Promise<QueueVerdict> {
    const [namespace = '', name = ''] = key.split('/');
    const obj = this.deps.cache.object(namespace, name);
    if (!obj) {
      this.role.forget(key);
      return { kind: 'done' };
    }
    const log = this.deps.log.child({ key, generation: obj.metadata.generation, reconcileId: randomUUID() });
    const pass: Pass = { key, obj, log, done: [] };
    try {
      return obj.metadata.deletionTimestamp ? await this.finalize(pass) : await this.sync(pass);
    } catch (e) {
      if (isKubeStatus(e, 404)) return { kind: 'done' };
      if (isKubeStatus(e, 409)) {
        log.debug('conflict; retrying with a fresh read', { error: errorMessage(e) });
        return { kind: 'retry' };
      }
      log.error('reconcile failed', { error: errorMessage(e) });
      return { kind: 'retry' };
    }
  }

  /**
   * One drift sweep over `objects` (the informer cache): the keys whose role differs, for the
   * queue. Those whose role matches keep their memory of the last sync. Throws when the sweep
   * cannot run (no permission: the caller falls back to the per-object reads of each pass).
   */
  async sweepDrift(objects: readonly IamServiceAccount[]): Promise<{ drifted: string[]; inSync: number }> {
    if (!this.deps.sweep) return { drifted: [], inSync: 0 };
    const own = await this.deps.identity();
    const byAccount = Map.groupBy(objects, (o) => targetAccount(o.spec, own.account));
    const found = { drifted: [] as string[], inSync: 0 };
    let failure: Error | undefined;
    // Each account on its own: one whose credentials are refused leaves the others' sweeps be.
    for (const [account, inAccount] of byAccount) {
      try {
        const f = await this.sweepAccount(own, account, inAccount);
        if (!f) continue;
        found.drifted.push(...f.drifted);
        found.inSync += f.inSync;
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(String(e));
      }
    }
    if (failure) {
      // Without the permission, sweeps are off; a passing failure leaves the memories be.
      if (isAccessDenied(failure)) this.role.setSweeping(false);
      throw failure;
    }
    this.role.setSweeping(true);
    return found;
  }

  /** One account's sweep; undefined when that account has none (no sweep configured, or not an account of the operator's). */
  private async sweepAccount(own: ClusterIdentity, account: string, objects: readonly IamServiceAccount[]) {
    const access = this.access(account, own.account);
    if (!access?.sweep) return undefined;
    let drift = this.drifts.get(account);
    if (!drift)
      this.drifts.set(account, (drift = new DriftSweep({ sweep: access.sweep.roles, roles: access.roles, budget: access.sweep.budget })));
    const identity = identityIn(own, account);
    const clientIds = await this.providers.clientIds(identity.oidcProviderArn, access.roles, this.creationAudience());
    const ctx = { identity, defaults: this.opts.roleDefaults, audience: defaultAudience(this.opts.defaultAudience, clientIds) };
    const findings = await drift.run(objects, ctx, this.opts.roleDefaults.rolePathPrefix);
    for (const key of findings.drifted) this.role.forget(key);
    for (const { key, generation } of findings.inSync) this.role.confirm(key, generation);
    return { drifted: findings.drifted, inSync: findings.inSync.length };
  }

  /** IAM of `account`: the operator's own, or one of its configured accounts. */
  private access(account: string, ownAccount: string): AccountAccess | undefined {
    return account === ownAccount ? this.deps : this.deps.accounts?.(account);
  }

  /** Flushes the Events still being written. */
  async flush(): Promise<void> {
    await this.events.flush();
  }

  private async sync(pass: Pass): Promise<QueueVerdict> {
    const finalizers = addFinalizer(pass.obj.metadata.finalizers, FINALIZER);
    if (finalizers) pass.obj = await this.patchFinalizers(pass, finalizers);
    let own: ClusterIdentity;
    try {
      own = await this.deps.identity();
    } catch (e) {
      return this.stop(pass, e);
    }
    // The role's account: the cluster as seen from there (its provider, its role ARNs).
    const account = targetAccount(pass.obj.spec, own.account);
    const identity = identityIn(own, account);
    // The spec and the operator's policy first: a refusal costs no AWS call.
    const checked = desiredState(pass.obj, identity, this.opts.roleDefaults);
    if (!checked.ok) return this.refuse(pass, checked.problem);
    const refusal = await this.admission.refusal(pass.obj, checked.desired, account, own.account);
    if (refusal) return this.refuse(pass, refusal);
    const access = this.access(account, own.account);
    if (!access) return this.refuse(pass, { reason: 'AccountNotAllowed', message: `the operator has no access to account ${account}` });
    const { roles } = access;
    let clientIds: readonly string[];
    try {
      clientIds = await this.providers.clientIds(identity.oidcProviderArn, roles, pass.obj.spec.audience ?? this.creationAudience());
    } catch (e) {
      return this.stop(pass, e);
    }
    // The default audience is the one the provider accepts, which may lengthen the trust policy.
    const audience = defaultAudience(this.opts.defaultAudience, clientIds);
    const desiredFor = (spec: IamServiceAccountSpec) => desiredState({ ...pass.obj, spec }, identity, this.opts.roleDefaults, audience);
    const result = desiredFor(pass.obj.spec);
    if (!result.ok) return this.refuse(pass, result.problem);
    if (this.providers.manages && !clientIds.includes(result.desired.trust.audience)) {
      try {
        clientIds = await this.providers.admit(identity.oidcProviderArn, roles, result.desired.trust.audience);
      } catch (e) {
        return this.stop(pass, e);
      }
    }
    // STS would refuse every token: write nothing a pod could pick up; read the provider again next time.
    const unaccepted = audienceNotAllowed(result.desired.trust.audience, identity.oidcProviderArn, clientIds);
    if (unaccepted) {
      this.providers.forget(identity.oidcProviderArn);
      return this.stop(pass, new WaitError('AudienceNotAllowedByProvider', unaccepted));
    }
    // The other clusters' providers: the trust names each, and STS must accept their tokens too.
    try {
      for (const [i, other] of result.desired.otherClusters.entries()) await this.providers.assertOtherCluster(other, i, roles);
    } catch (e) {
      return this.stop(pass, e);
    }

    const { role, serviceAccount, pods } = await this.syncParts(pass, { desired: result.desired, identity, desiredFor, roles });
    const saSynced = serviceAccount?.outcome.state === 'synced';
    const fields = {
      ...statusFields(result.desired, identity.oidcProviderArn, pass.obj.status?.serviceAccountName, saSynced),
      podsNeedingRestart: pods,
    };
    const trust = this.role.trustOf(pass.key);
    await this.writeStatus(pass, { role: role.outcome, serviceAccount: serviceAccount?.outcome, trust, fields });
    const verdict = verdictFor([role, ...(serviceAccount ? [serviceAccount] : [])], {
      driftMs: this.driftDelay(),
      waitMs: this.opts.waitMs,
    });
    // Pods still waiting for a restart are looked at again soon: the count falls as they go.
    if (pods && verdict.kind === 'after') return { kind: 'after', delayMs: Math.min(verdict.delayMs, STALE_PODS_RECHECK_MS) };
    return verdict;
  }

  private async syncParts(
    pass: Pass,
    want: RoleWant,
  ): Promise<{ role: PartResult; serviceAccount?: PartResult; pods?: PodsNeedingRestart | undefined }> {
    const sa = want.desired.serviceAccount;
    let role: PartResult;
    try {
      // A ServiceAccount this object may not write stops it before any IAM write.
      if (sa) await this.serviceAccount.assertMayWrite(pass, sa);
      role = { outcome: await syncPart(this.role, pass, want), backoff: false };
    } catch (e) {
      role = failed(e);
    }
    if (!sa) return { role };
    // The ServiceAccount is annotated only once the role can be assumed: a pod started earlier
    // would otherwise get a role ARN that does not work yet.
    if (role.outcome.state !== 'synced') return { role, serviceAccount: WAITING_FOR_ROLE, pods: pass.obj.status?.podsNeedingRestart };
    const before = this.deps.cache.serviceAccount(pass.obj.metadata.namespace, sa.name)?.metadata?.annotations;
    let serviceAccount: PartResult;
    try {
      serviceAccount = { outcome: await syncPart(this.serviceAccount, pass, sa), backoff: false };
    } catch (e) {
      return { role, serviceAccount: failed(e), pods: pass.obj.status?.podsNeedingRestart };
    }
    return { role, serviceAccount, pods: await this.checkPods(pass, sa, before) };
  }

  /**
   * Pods that predate the role annotations: looked for when the annotations change, and while
   * some were found before. A failure (no RBAC for pods, say) keeps what status said.
   */
  private async checkPods(pass: Pass, sa: DesiredServiceAccount, before: Record<string, string> | undefined) {
    const previous = pass.obj.status?.podsNeedingRestart;
    if (!this.pods.enabled || (!roleAnnotationsDiffer(before, sa.annotations) && !previous)) return previous;
    try {
      return await this.pods.check(pass, sa);
    } catch (e) {
      pass.log.warn('could not look for pods that predate the role annotations', { error: errorMessage(e) });
      return previous;
    }
  }

  private async finalize(pass: Pass): Promise<QueueVerdict> {
    const remaining = removeFinalizer(pass.obj.metadata.finalizers, FINALIZER);
    if (!remaining) return { kind: 'done' };
    try {
      await this.serviceAccount.release(pass);
      await this.role.release(pass);
    } catch (e) {
      const part = failurePart(e);
      pass.log.warn('cleanup failed; the finalizer stays', { reason: part.reason, message: part.message });
      return this.stop(pass, e);
    }
    await this.patchFinalizers(pass, remaining);
    pass.log.info('finalized');
    return { kind: 'done' };
  }

  private refuse(pass: Pass, problem: SpecProblem): Promise<QueueVerdict> {
    pass.log.warn('object refused', { reason: problem.reason, message: problem.message });
    return this.stop(pass, new TerminalError(problem.reason, problem.message));
  }

  /**
   * A pass that cannot reach the parts: its reason on the role's condition; terminal drops the key,
   * an expected wait looks again after waitMs, anything else backs off.
   */
  private async stop(pass: Pass, e: unknown): Promise<QueueVerdict> {
    const result = failed(e);
    await this.writeStatus(pass, { role: result.outcome, serviceAccount: undefined, fields: { ...pass.obj.status } });
    return verdictFor([result], { driftMs: this.driftDelay(), waitMs: this.opts.waitMs });
  }

  /** The status, when it changed, then the pass's one Event (eventFor). */
  private async writeStatus(pass: Pass, outcome: Outcome): Promise<void> {
    const { obj } = pass;
    const { status, changed } = buildStatus(obj.status, outcome, obj.metadata.generation ?? 0, this.now().toISOString());
    let written = false;
    try {
      if (changed) await this.deps.kube.patchStatus(obj.metadata.namespace, obj.metadata.name, status);
      written = changed;
    } catch (e) {
      if (!isKubeStatus(e, 404)) {
        // What the pass changed is told even when its status is not (the next pass changes nothing).
        const told = eventFor(pass.done, undefined);
        if (told) this.events.record(obj, pass.log, told.type, told.reason, told.message);
        throw e;
      }
    }
    const before = findCondition(obj.status?.conditions, 'Ready');
    const ready = readyOf(outcome);
    const transition = written && ((ready.ok ? 'True' : 'False') !== before?.status || ready.reason !== before.reason) ? ready : undefined;
    const told = eventFor(pass.done, transition);
    if (told) this.events.record(obj, pass.log, told.type, told.reason, told.message);
  }

  private patchFinalizers(pass: Pass, finalizers: string[]): Promise<Pass['obj']> {
    const { namespace, name, resourceVersion } = pass.obj.metadata;
    return this.deps.kube.patchFinalizers(namespace, name, finalizers, resourceVersion ?? '');
  }

  /** The audience a managed provider is created with when an object names none. */
  private creationAudience(): string {
    return this.opts.defaultAudience ?? STS_AUDIENCE;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private driftDelay(): number {
    const r = this.opts.random?.() ?? Math.random();
    return Math.round(this.opts.driftPeriodMs * (0.9 + 0.2 * r));
  }
}

/**
 * One Event per pass, only when something changed: Ready's new reason when Ready changed (what
 * the pass did in brackets), else what the pass did, under the reason of its first change.
 */
export function eventFor(
  done: readonly Done[],
  ready: { ok: boolean; reason: Reason; message: string } | undefined,
): { type: 'Normal' | 'Warning'; reason: EventReason; message: string } | undefined {
  const did = done.map((d) => d.message).join('; ');
  if (ready)
    return { type: ready.ok ? 'Normal' : 'Warning', reason: ready.reason, message: did ? `${ready.message} (${did})` : ready.message };
  const first = done[0];
  return first && { type: 'Normal', reason: first.reason, message: did };
}
