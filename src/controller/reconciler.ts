// reconcile(key): read the object, compute what it asks for, let each part (the role, the
// ServiceAccount) observe, decide and apply, write status only when it changed, and tell the
// work queue when to look again. Level-based and idempotent. The parts live in their own modules;
// this file is the skeleton: finalize or sync, the status write, the verdict.
import { randomUUID } from 'node:crypto';
import {
  FINALIZER,
  OWNER_ANNOTATION,
  SA_ANNOTATIONS,
  type IamServiceAccount,
  type IamServiceAccountSpec,
  type PodsNeedingRestart,
} from '../api/types.ts';
import type { EventReason, Reason } from '../api/reasons.ts';
import { WriteBudget } from '../aws/budget.ts';
import { isAccessDenied } from '../aws/errors.ts';
import { errorMessage, TerminalError, WaitError } from '../errors.ts';
import { isKubeStatus } from '../kube/http.ts';
import type { Logger } from '../log.ts';
import { identityIn, podIdentityElsewhere, targetAccount } from '../policy/accounts.ts';
import { audienceNotAllowed, defaultAudience, STS_AUDIENCE } from '../policy/audience.ts';
import {
  desiredState,
  wantedPaths,
  type ClusterIdentity,
  type DesiredServiceAccount,
  type RoleDefaults,
  type TrustPaths,
} from '../policy/desired.ts';
import { roleAnnotationsDiffer } from '../policy/pods.ts';
import type { DeniedAction } from '../policy/actions.ts';
import type { OperatorPolicy } from '../policy/guard.ts';
import { validateSpec, type SpecProblem } from '../api/validate.ts';
import { Admission } from './admission.ts';
import { AssociationPart, type AssociationPlan, type AssociationWant } from './association.ts';
import { findCondition } from './conditions.ts';
import { EventRecorder } from './events.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import { failed, failurePart, verdictFor, type PartResult, type QueueVerdict } from './outcome.ts';
import { syncPart, type Done, type Pass } from './part.ts';
import { associationDrift, DriftSweep } from './drift.ts';
import type { AccountAccess, AssociationStore, KubeReads, KubeWrites, ObjectCache, RoleStore } from './ports.ts';
import { PodRestarts, type StalePodsMode } from './pods.ts';
import { Providers, type ProviderManagement } from './providers.ts';
import { RolePart, type RoleWant } from './role.ts';
import { ServiceAccountPart } from './serviceaccount.ts';
import { buildStatus, readyOf, statusFields, type Outcome, type PartOutcome } from './status.ts';

/** The operator's own account's IAM (AccountAccess), its cluster's EKS, Kubernetes, and the other accounts. */
export interface ReconcilerDeps extends AccountAccess {
  /** EKS of the operator's own account: the cluster and its Pod Identity associations (asked only for objects that use Pod Identity). */
  associations: AssociationStore;
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

/** A pass that changed the identity mode looks again this soon, to narrow the trust to the new path. */
const MIGRATION_STEP_MS = 1_000;

const WAITING_FOR_ROLE: PartResult = {
  outcome: { state: 'progressing', reason: 'WaitingForRole', message: 'the ServiceAccount is annotated once the role is in sync' },
  backoff: false,
};

const WAITING_FOR_ASSOCIATION: PartResult = {
  outcome: {
    state: 'progressing',
    reason: 'WaitingForAssociation',
    message: 'the ServiceAccount loses its role annotation once the EKS Pod Identity association exists',
  },
  backoff: false,
};

interface SyncedParts {
  role: PartResult;
  serviceAccount?: PartResult | undefined;
  /** Set when the association part ran (or had to and could not). */
  association?: PartResult | undefined;
  pods?: PodsNeedingRestart | undefined;
}

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
  private readonly association: AssociationPart;
  /**
   * Per key, the resourceVersions the operator's own writes replaced. A cache that still shows one
   * has not caught up with them: a pass from it would only meet a conflict (a wasted write), and
   * the watch event that brings the newer object enqueues the key again.
   */
  private readonly superseded = new Map<string, string[]>();
  /** The EKS cluster's ARN, read once (Pod Identity); an absent cluster or a failure is asked again next time. */
  private clusterArn: Promise<string | undefined> | undefined;

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
    // With sweeps configured, syncs are remembered for two periods from the start: the first sweep
    // may come late (it waits for a busy queue) or fail once, and objects synced before it would
    // otherwise read their own roles. A denied sweep brings it back to one period.
    this.role.setSweeping(deps.sweep !== undefined);
    this.serviceAccount = new ServiceAccountPart(deps);
    this.association = new AssociationPart({ associations: deps.associations, driftPeriodMs: opts.driftPeriodMs, now });
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
      this.association.forget(key);
      this.superseded.delete(key);
      return { kind: 'done' };
    }
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && this.superseded.get(key)?.includes(rv)) return { kind: 'done' };
    this.superseded.delete(key);
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
    // Pod Identity with a role in another account is refused by each pass (podIdentityElsewhere): not swept.
    const sweepable = objects.filter((o) => !podIdentityElsewhere(o.spec, targetAccount(o.spec, own.account), own.account));
    const byAccount = Map.groupBy(sweepable, (o) => targetAccount(o.spec, own.account));
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

  /**
   * One account's sweep: its roles, and in the operator's own account the Pod Identity associations
   * (EKS of the own account, the only one that has them). Undefined when that account has none (no
   * sweep configured, or not an account of the operator's).
   */
  private async sweepAccount(own: ClusterIdentity, account: string, objects: readonly IamServiceAccount[]) {
    const access = this.access(account, own.account);
    if (!access?.sweep) return undefined;
    let drift = this.drifts.get(account);
    if (!drift)
      this.drifts.set(account, (drift = new DriftSweep({ sweep: access.sweep.roles, roles: access.roles, budget: access.sweep.budget })));
    const ownAccount = account === own.account;
    // The cluster's ARN as a pass read it (none read yet: no object uses Pod Identity).
    const identity = ownAccount ? { ...own, clusterArn: await this.clusterArn } : identityIn(own, account);
    const clientIds = await this.providers.clientIds(identity.oidcProviderArn, access.roles, this.creationAudience());
    const ctx = { identity, defaults: this.opts.roleDefaults, audience: defaultAudience(this.opts.defaultAudience, clientIds) };
    const findings = await drift.run(objects, ctx, this.opts.roleDefaults.rolePathPrefix);
    for (const key of findings.drifted) this.role.forget(key);
    for (const { key, generation } of findings.inSync) this.role.confirm(key, generation);
    if (!ownAccount) return { drifted: findings.drifted, inSync: findings.inSync.length };
    // The associations after the roles, whose memories are renewed by now.
    const budget = access.sweep.budget;
    const associations = await associationDrift(objects, ctx, this.deps.associations, () => budget.take());
    for (const key of associations.drifted) this.association.forget(key);
    for (const { key, generation } of associations.inSync) this.association.confirm(key, generation);
    return { drifted: [...new Set([...findings.drifted, ...associations.drifted])], inSync: findings.inSync.length };
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
    const wanted = await this.desire(pass);
    if ('verdict' in wanted) return wanted.verdict;
    const { want, keep } = wanted;
    const { desired, identity } = want;
    const parts = await this.syncParts(pass, want);
    const { serviceAccount, association, pods } = parts;
    let { role } = parts;
    const saSynced = serviceAccount?.outcome.state === 'synced';
    const known = association
      ? this.association.current(pass.key)
      : { id: pass.obj.status?.podIdentityAssociationID, arn: pass.obj.status?.podIdentityAssociationARN };
    const fields = {
      ...statusFields(desired, identity.oidcProviderArn, pass.obj.status?.serviceAccountName, saSynced),
      podIdentityAssociationARN: known?.arn,
      podIdentityAssociationID: known?.id,
      podsNeedingRestart: pods,
    };
    const others = [...(serviceAccount ? [serviceAccount] : []), ...(association ? [association] : [])];
    // A migration step: the new path is in place and the old one released; the trust still admits
    // the old path, and the next pass (which reads the role again) narrows it.
    const migrating = (keep.irsa === true || keep.pod === true) && [role, ...others].every((p) => p.outcome.state === 'synced');
    if (migrating) {
      this.role.forget(pass.key);
      const old = keep.pod === true ? 'Pod Identity' : 'IRSA';
      const message = `identity ${desired.identity}: the new path is in place; the trust of ${desired.roleArn} still admits ${old} until the next pass narrows it`;
      role = { outcome: { state: 'progressing', reason: 'IdentityMigrating', message }, backoff: false };
    }
    const trust = this.role.trustOf(pass.key, desired);
    const outcome = { role: role.outcome, serviceAccount: serviceAccount?.outcome, association: association?.outcome, trust, fields };
    await this.writeStatus(pass, outcome);
    if (migrating) return { kind: 'after', delayMs: MIGRATION_STEP_MS };
    const verdict = verdictFor([role, ...others], { driftMs: this.driftDelay(), waitMs: this.opts.waitMs });
    // Pods still waiting for a restart are looked at again soon: the count falls as they go.
    if (pods && verdict.kind === 'after') return { kind: 'after', delayMs: Math.min(verdict.delayMs, STALE_PODS_RECHECK_MS) };
    return verdict;
  }

  /**
   * What the object wants in this cluster, or the verdict of a pass that stops before the parts:
   * the spec (no AWS call), the cluster's identity and the role's account (Pod Identity in the own
   * account only), the EKS cluster for Pod Identity, the operator's policy, the account's access,
   * and for a trust that admits IRSA tokens the OIDC provider in the role's account and its audiences.
   */
  private async desire(pass: Pass): Promise<{ want: RoleWant; keep: Partial<TrustPaths> } | { verdict: QueueVerdict }> {
    const stop = async (e: unknown) => ({ verdict: await this.stop(pass, e) });
    const refuse = async (problem: SpecProblem) => ({ verdict: await this.refuse(pass, problem) });
    // The spec first: a refusal costs no AWS call.
    const invalid = validateSpec(pass.obj.spec);
    if (invalid) return refuse(invalid);
    // Paths the trust keeps while the object migrates away from them (docs/pod-identity.md).
    const keep = this.keepPaths(pass.obj);
    let own: ClusterIdentity;
    try {
      own = await this.deps.identity();
    } catch (e) {
      return stop(e);
    }
    // The role's account: the cluster as seen from there (its provider, its role ARNs).
    const account = targetAccount(pass.obj.spec, own.account);
    // Associations are the cluster's, in the own account's EKS, with roles of that account.
    const elsewhere = podIdentityElsewhere(pass.obj.spec, account, own.account);
    if (elsewhere) return refuse(elsewhere);
    let identity = identityIn(own, account);
    if (wantedPaths(pass.obj.spec.identity).pod || keep.pod === true) {
      try {
        identity = { ...identity, clusterArn: await this.eksClusterArn(own) };
      } catch (e) {
        return stop(e);
      }
    }
    const known = identity;
    const desiredWith = (audience: string) => (spec: IamServiceAccountSpec) =>
      desiredState({ ...pass.obj, spec }, known, this.opts.roleDefaults, audience, keep);
    // The operator's policy next: a refusal costs no write.
    const checked = desiredWith(STS_AUDIENCE)(pass.obj.spec);
    if (!checked.ok) return refuse(checked.problem);
    const refusal = await this.admission.refusal(pass.obj, checked.desired, account, own.account);
    if (refusal) return refuse(refusal);
    const access = this.access(account, own.account);
    if (!access) return refuse({ reason: 'AccountNotAllowed', message: `the operator has no access to account ${account}` });
    const { roles } = access;
    let desiredFor = desiredWith(STS_AUDIENCE);
    let desired = checked.desired;
    // The cluster's OIDC provider (in the role's account) matters only to a trust that admits its IRSA tokens.
    if (desired.paths.irsa) {
      const withProvider = await this.withProvider(pass, identity.oidcProviderArn, roles, desiredWith);
      if ('verdict' in withProvider) return withProvider;
      ({ desired, desiredFor } = withProvider);
    }
    // The other clusters' providers: the trust names each, and STS must accept their tokens too.
    try {
      for (const [i, other] of desired.otherClusters.entries()) await this.providers.assertOtherCluster(other, i, roles);
    } catch (e) {
      return stop(e);
    }
    return { want: { desired, identity, desiredFor, roles }, keep };
  }

  /**
   * The cluster's OIDC provider in the role's account (created with manageOidcProvider) and what
   * the object wants with the audience it accepts (one it lacks is added to a provider the
   * operator made), or the verdict of a pass that waits or is refused.
   */
  private async withProvider(
    pass: Pass,
    providerArn: string,
    roles: RoleStore,
    desiredWith: (audience: string) => RoleWant['desiredFor'],
  ): Promise<Pick<RoleWant, 'desired' | 'desiredFor'> | { verdict: QueueVerdict }> {
    let clientIds: readonly string[];
    try {
      clientIds = await this.providers.clientIds(providerArn, roles, pass.obj.spec.audience ?? this.creationAudience());
    } catch (e) {
      return { verdict: await this.stop(pass, e) };
    }
    // The default audience is the one the provider accepts, which may lengthen the trust policy.
    const desiredFor = desiredWith(defaultAudience(this.opts.defaultAudience, clientIds));
    const result = desiredFor(pass.obj.spec);
    if (!result.ok) return { verdict: await this.refuse(pass, result.problem) };
    const desired = result.desired;
    if (this.providers.manages && !clientIds.includes(desired.trust.audience)) {
      try {
        clientIds = await this.providers.admit(providerArn, roles, desired.trust.audience);
      } catch (e) {
        return { verdict: await this.stop(pass, e) };
      }
    }
    // STS would refuse every token: write nothing a pod could pick up; read the provider again next time.
    const unaccepted = audienceNotAllowed(desired.trust.audience, providerArn, clientIds);
    if (unaccepted) {
      this.providers.forget(providerArn);
      return { verdict: await this.stop(pass, new WaitError('AudienceNotAllowedByProvider', unaccepted)) };
    }
    return { desired, desiredFor };
  }

  /**
   * The parts in the order that never leaves a ServiceAccount without a working path: the role
   * (its trust admits every path wanted or still in use), the association when wanted, the
   * ServiceAccount (it loses its role annotation only once the association exists), and last the
   * association no longer wanted (only once the ServiceAccount carries its annotation again).
   */
  private async syncParts(pass: Pass, want: RoleWant): Promise<SyncedParts> {
    const { desired, identity } = want;
    const sa = desired.serviceAccount;
    const stalePods = pass.obj.status?.podsNeedingRestart;
    const assoc: AssociationWant = {
      desired: desired.association,
      cluster: identity.clusterName,
      namespace: pass.obj.metadata.namespace,
      serviceAccount: sa?.name ?? pass.obj.metadata.name,
      knownId: pass.obj.status?.podIdentityAssociationID,
    };
    let role: PartResult;
    let plan: AssociationPlan | undefined;
    try {
      // A ServiceAccount this object may not write, or an association of its ServiceAccount that
      // is someone else's, stops it before any IAM write.
      if (sa) await this.serviceAccount.assertMayWrite(pass, sa);
      if (desired.association) plan = this.association.decide(pass, assoc, await this.association.observe(pass, assoc));
      role = { outcome: await syncPart(this.role, pass, want), backoff: false };
    } catch (e) {
      role = failed(e);
    }
    // The ServiceAccount is annotated (and the association made) only once the role can be
    // assumed: a pod started earlier would otherwise get a role that does not work yet.
    if (role.outcome.state !== 'synced') return { role, serviceAccount: sa && WAITING_FOR_ROLE, pods: stalePods };
    let association: PartResult | undefined;
    if (plan) {
      const decided = plan;
      association = await this.runPart(() => this.association.apply(pass, assoc, decided));
    }
    if (!sa) return { role, association };
    if (association && association.outcome.state !== 'synced' && !wantedPaths(desired.identity).irsa) {
      return { role, association, serviceAccount: WAITING_FOR_ASSOCIATION, pods: stalePods };
    }
    const before = this.deps.cache.serviceAccount(pass.obj.metadata.namespace, sa.name)?.metadata?.annotations;
    const serviceAccount = await this.runPart(() => syncPart(this.serviceAccount, pass, sa));
    if (serviceAccount.outcome.state !== 'synced') return { role, association, serviceAccount, pods: stalePods };
    // Back to IRSA: the association goes only now that the ServiceAccount carries its annotation.
    if (!desired.association && assoc.knownId !== undefined)
      association = await this.runPart(() => syncPart(this.association, pass, assoc));
    return { role, serviceAccount, association, pods: await this.checkPods(pass, sa, before) };
  }

  private async runPart(run: () => Promise<PartOutcome>): Promise<PartResult> {
    try {
      return { outcome: await run(), backoff: false };
    } catch (e) {
      return failed(e);
    }
  }

  /**
   * The paths the trust keeps although the spec no longer asks for them: IRSA while the
   * ServiceAccount still carries this object's role annotation, Pod Identity while status names an
   * association. Each goes once its replacement is in place.
   */
  private keepPaths(obj: IamServiceAccount): Partial<TrustPaths> {
    const wanted = wantedPaths(obj.spec.identity);
    const saName = obj.spec.serviceAccount?.name ?? obj.metadata.name;
    const annotations = this.deps.cache.serviceAccount(obj.metadata.namespace, saName)?.metadata?.annotations;
    const annotated = annotations?.[OWNER_ANNOTATION] === obj.metadata.name && annotations[SA_ANNOTATIONS.roleArn] !== undefined;
    return { irsa: !wanted.irsa && annotated, pod: !wanted.pod && obj.status?.podIdentityAssociationID !== undefined };
  }

  /** The EKS cluster's ARN, read once; undefined while EKS has no cluster of the configured name. */
  private async eksClusterArn(identity: ClusterIdentity): Promise<string | undefined> {
    const asked = (this.clusterArn ??= this.deps.associations.clusterArn(identity.clusterName));
    try {
      const arn = await asked;
      if (arn === undefined && this.clusterArn === asked) this.clusterArn = undefined;
      return arn;
    } catch (e) {
      if (this.clusterArn === asked) this.clusterArn = undefined;
      throw e;
    }
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
      await this.releaseAssociation(pass);
      // An association deleted is told at once, as the role part tells a role it deleted.
      for (const d of pass.done.splice(0)) this.events.record(pass.obj, pass.log, 'Normal', d.reason, d.message);
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

  /** The association (deletionPolicy Delete), for objects that used Pod Identity: IRSA-only objects make no EKS call. */
  private async releaseAssociation(pass: Pass): Promise<void> {
    const { obj } = pass;
    if (!wantedPaths(obj.spec.identity).pod && obj.status?.podIdentityAssociationID === undefined) {
      this.association.forget(pass.key);
      return;
    }
    const identity = await this.deps.identity();
    await this.association.release(pass, {
      cluster: identity.clusterName,
      serviceAccount: obj.spec.serviceAccount?.name ?? obj.metadata.name,
    });
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
      if (changed) {
        await this.deps.kube.patchStatus(obj.metadata.namespace, obj.metadata.name, status, obj.metadata.resourceVersion ?? '');
        this.replaced(pass);
      }
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

  private async patchFinalizers(pass: Pass, finalizers: string[]): Promise<Pass['obj']> {
    const { namespace, name, resourceVersion } = pass.obj.metadata;
    const patched = await this.deps.kube.patchFinalizers(namespace, name, finalizers, resourceVersion ?? '');
    this.replaced(pass);
    return patched;
  }

  /** The pass's object was replaced by the operator's own write. */
  private replaced(pass: Pass): void {
    const rv = pass.obj.metadata.resourceVersion;
    if (rv !== undefined) this.superseded.set(pass.key, [...(this.superseded.get(pass.key) ?? []), rv]);
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
