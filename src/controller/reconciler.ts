// reconcile(key): read the object, compute what it asks for, read what IAM and the cluster have,
// write only what differs, write status only when it changed. Level-based and idempotent.
import { randomUUID } from 'node:crypto';
import { ApiException, type V1ServiceAccount } from '@kubernetes/client-node';
import {
  FINALIZER,
  OWNER_ANNOTATION,
  type IamServiceAccount,
} from '../api/types.ts';
import { awsReason } from '../aws/errors.ts';
import type { IamRoles } from '../aws/iam.ts';
import { errorMessage, WaitError, TerminalError, terminalCause } from '../errors.ts';
import type { KubeApi } from '../kube/client.ts';
import { isKubeStatus } from '../kube/client.ts';
import type { QueueVerdict } from '../kube/queue.ts';
import type { Logger } from '../log.ts';
import { roleNameFromArn } from '../policy/arn.ts';
import { desiredState, OWNER_TAGS, ownedBy, type ClusterIdentity, type Desired, type DesiredServiceAccount } from '../policy/desired.ts';
import { diffRole } from '../policy/diff.ts';
import { checkOperatorPolicy, deniedGrant, type OperatorPolicy } from '../policy/guard.ts';
import { parsePolicyDocument, type PolicyDocument } from '../policy/document.ts';
import { trustAllows } from '../policy/trust.ts';
import { findCondition } from './conditions.ts';
import { addFinalizer, removeFinalizer } from './finalizers.ts';
import { buildStatus, type Outcome, type PartOutcome } from './status.ts';

const NAMESPACE_CACHE_MS = 30_000;
/** Customer-managed policy documents are re-read after this long (a fixed policy is seen soon). */
const POLICY_CACHE_MS = 60_000;

/** Annotation marking a ServiceAccount the operator created (deleted with its object). */
export const CREATED_ANNOTATION = 'irsa.dev/created';

export interface ReconcilerOptions {
  policy: OperatorPolicy;
  adoptExistingRoles: boolean;
  /** Objects of a namespace, from the informer cache (role quota). */
  objectsInNamespace: (namespace: string) => readonly IamServiceAccount[];
  driftPeriodMs: number;
  /** How long to wait before looking again at something that is expected to appear. */
  waitMs: number;
  /** Role of the ServiceAccount informer: objects it lists are read from memory. */
  cachedServiceAccount: (namespace: string, name: string) => V1ServiceAccount | undefined;
  /** The (label-selected) ServiceAccounts of a namespace in that cache: finds every one an object owns. */
  cachedServiceAccounts?: (namespace: string) => readonly V1ServiceAccount[];
  cachedObject: (namespace: string, name: string) => IamServiceAccount | undefined;
  identity: () => Promise<ClusterIdentity>;
  now?: () => Date;
  random?: () => number;
}

interface Ctx {
  key: string;
  obj: IamServiceAccount;
  log: Logger;
}

export class Reconciler {
  private readonly kube: KubeApi;
  private readonly roles: IamRoles;
  private readonly log: Logger;
  private readonly opts: ReconcilerOptions;
  /** Last full sync with AWS per key: events between drift checks skip the AWS reads. */
  private readonly lastSync = new Map<string, { generation: number; at: number; message: string }>();
  private readonly providerChecked = new Map<string, number>();
  private readonly pendingEvents = new Set<Promise<void>>();
  /** Namespace annotations and customer-managed policy documents, each with the time it was read. */
  private readonly namespaceCache = new Map<string, { at: number; annotations: Record<string, string> }>();
  private readonly policyCache = new Map<string, { at: number; document: string | undefined }>();

  constructor(kube: KubeApi, roles: IamRoles, log: Logger, opts: ReconcilerOptions) {
    this.kube = kube;
    this.roles = roles;
    this.log = log;
    this.opts = opts;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private driftDelay(): number {
    const r = this.opts.random?.() ?? Math.random();
    return Math.round(this.opts.driftPeriodMs * (0.9 + 0.2 * r));
  }

  async reconcile(key: string): Promise<QueueVerdict> {
    const [namespace = '', name = ''] = key.split('/');
    const obj = this.opts.cachedObject(namespace, name);
    if (!obj) {
      this.lastSync.delete(key);
      return { kind: 'done' };
    }
    const log = this.log.child({ key, generation: obj.metadata.generation, reconcileId: randomUUID() });
    const ctx: Ctx = { key, obj, log };
    try {
      if (obj.metadata.deletionTimestamp) return await this.finalize(ctx);
      return await this.sync(ctx);
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

  private async sync(ctx: Ctx): Promise<QueueVerdict> {
    let { obj } = ctx;
    const generation = obj.metadata.generation ?? 0;
    const finalizers = addFinalizer(obj.metadata.finalizers, FINALIZER);
    if (finalizers) {
      obj = await this.kube.patchFinalizers(obj.metadata.namespace, obj.metadata.name, finalizers, obj.metadata.resourceVersion ?? '');
      ctx.obj = obj;
    }

    let identity: ClusterIdentity;
    try {
      identity = await this.opts.identity();
    } catch (e) {
      const part = failurePart(e);
      await this.writeStatus(ctx, { role: part, serviceAccount: undefined, fields: { ...obj.status } }, generation);
      return part.state === 'stalled' ? { kind: 'drop' } : { kind: 'retry' };
    }

    const result = desiredState(obj, identity);
    if (!result.ok) {
      const part: PartOutcome = { state: 'stalled', ...result.problem };
      ctx.log.warn('object cannot be reconciled as written', { reason: part.reason, message: part.message });
      await this.writeStatus(ctx, { role: part, serviceAccount: undefined, fields: { ...obj.status } }, generation);
      return { kind: 'drop' };
    }
    const desired = result.desired;
    const refused = checkOperatorPolicy(this.opts.policy, {
      namespace: obj.metadata.namespace,
      namespaceAnnotations: await this.namespaceAnnotations(obj.metadata.namespace),
      role: desired.role,
      explicitRoleName: obj.spec.roleName !== undefined,
      roleIndexInNamespace: () => this.roleIndex(obj),
    });
    if (refused) {
      const part: PartOutcome = { state: 'stalled', ...refused };
      ctx.log.warn("object refused by the operator's policy", { reason: part.reason, message: part.message });
      await this.writeStatus(ctx, { role: part, serviceAccount: undefined, fields: { ...obj.status } }, generation);
      return { kind: 'drop' };
    }
    const fields: Outcome['fields'] = {
      roleARN: desired.roleArn,
      roleName: desired.roleName,
      oidcProviderARN: identity.oidcProviderArn,
      serviceAccountName: desired.serviceAccount?.name,
      attachedPolicyARNs: desired.role?.managedPolicyArns,
    };

    let role: PartOutcome;
    let retry = false;
    try {
      // A ServiceAccount this object may not write stops it before any IAM write.
      if (desired.serviceAccount) {
        this.assertMayWrite(obj, desired.serviceAccount, await this.readServiceAccount(obj.metadata.namespace, desired.serviceAccount.name));
      }
      role = await this.syncRole(ctx, desired, identity);
    } catch (e) {
      role = failurePart(e);
      retry = needsBackoff(e, role);
    }
    // The ServiceAccount is annotated only once the role can be assumed: a pod started earlier
    // would otherwise get a role ARN that does not work yet.
    let serviceAccount: PartOutcome | undefined;
    if (desired.serviceAccount) {
      if (role.state === 'synced') {
        try {
          serviceAccount = await this.syncServiceAccount(ctx, desired.serviceAccount, obj.status?.serviceAccountName);
        } catch (e) {
          serviceAccount = failurePart(e);
          retry ||= needsBackoff(e, serviceAccount);
        }
      } else {
        serviceAccount = { state: 'progressing', reason: 'WaitingForRole', message: 'the ServiceAccount is annotated once the role is in sync' };
      }
      // status.serviceAccountName names the ServiceAccount that carries the annotations: until a
      // renamed one does, it keeps the old name, so that the next pass (or the finalizer) still
      // releases the old one.
      const previous = obj.status?.serviceAccountName;
      if (serviceAccount.state !== 'synced' && previous !== undefined) fields.serviceAccountName = previous;
    }
    const outcome: Outcome = { role, serviceAccount, fields };
    await this.writeStatus(ctx, outcome, generation);

    const parts = [role, ...(serviceAccount ? [serviceAccount] : [])];
    if (parts.every((p) => p.state === 'synced')) {
      return { kind: 'after', delayMs: this.driftDelay() };
    }
    if (retry) return { kind: 'retry' };
    if (parts.some((p) => p.state === 'stalled')) return { kind: 'drop' };
    return { kind: 'after', delayMs: this.opts.waitMs };
  }

  private async syncRole(ctx: Ctx, desired: Desired, identity: ClusterIdentity): Promise<PartOutcome> {
    const { obj, key } = ctx;
    const generation = obj.metadata.generation ?? 0;
    // This process synced the role at this generation less than a drift period ago: events in
    // between (our own status and ServiceAccount writes coming back) need no AWS read.
    const memo = this.lastSync.get(key);
    if (memo?.generation === generation && this.now().getTime() - memo.at < this.opts.driftPeriodMs) {
      return { state: 'synced', reason: 'Synced', message: memo.message };
    }
    await this.requireProvider(identity);

    if (desired.mode === 'attached' || !desired.role) {
      const found = await this.roles.readTrust(roleNameFromArn(desired.roleArn) ?? '');
      if (!found) {
        throw new WaitError('RoleNotFound', `IAM has no role ${desired.roleArn}: create it or fix attachRoleARN`);
      }
      if (found.arn !== desired.roleArn) {
        throw new TerminalError('RoleNotFound', `attachRoleARN ${desired.roleArn} does not match the role IAM has under that name (${found.arn})`);
      }
      if (!trustAllows(parseDocument(found.trustPolicy), desired.trust)) {
        throw new WaitError(
          'TrustPolicyMismatch',
          `role ${desired.roleArn} does not trust ServiceAccount ${desired.trust.namespace}/${desired.trust.serviceAccountName}: add an Allow statement for sts:AssumeRoleWithWebIdentity by ${desired.trust.oidcProviderArn} with StringEquals ${desired.trust.issuerHostPath}:sub = system:serviceaccount:${desired.trust.namespace}:${desired.trust.serviceAccountName} and ${desired.trust.issuerHostPath}:aud = ${desired.trust.audience}`,
        );
      }
      const message = `existing role ${desired.roleArn} trusts this ServiceAccount`;
      this.lastSync.set(key, { generation, at: this.now().getTime(), message });
      return { state: 'synced', reason: 'Synced', message };
    }

    const want = desired.role;
    await this.checkCustomerPolicies(want.managedPolicyArns);
    const actual = await this.roles.read(want.name);
    if (actual && !ownedBy(actual.tags, identity.clusterName, obj.metadata.namespace, obj.metadata.name)) {
      const owner = [OWNER_TAGS.cluster, OWNER_TAGS.namespace, OWNER_TAGS.name].map((t) => actual.tags[t]);
      if (actual.tags[OWNER_TAGS.managedBy] !== undefined) {
        throw new TerminalError('RoleConflict', `IAM role ${want.name} belongs to IamServiceAccount ${owner[1] ?? '?'}/${owner[2] ?? '?'} in cluster ${owner[0] ?? '?'}: choose another roleName`);
      }
      if (!this.opts.adoptExistingRoles) {
        throw new TerminalError(
          'RoleNotOwned',
          `IAM role ${want.name} exists and was not created by irsa-operator: choose another roleName, use attachRoleARN to use that role as it is, or ask the platform team to allow adoptExistingRoles`,
        );
      }
      ctx.log.warn('adopting an existing IAM role', { role: want.name });
    }
    if (actual && actual.path !== want.path) {
      throw new TerminalError('RolePathMismatch', `IAM role ${want.name} has path ${actual.path}, not ${want.path}; IAM cannot move a role: delete it or restore the path`);
    }
    const ops = diffRole(want, actual);
    if (ops.length > 0) {
      const names = ops.map((o) => o.op);
      ctx.log.info(actual ? 'updating IAM role' : 'creating IAM role', { role: want.name, operations: names });
      await this.roles.apply(want.name, ops);
      this.event(ctx, 'Normal', actual ? 'RoleUpdated' : 'RoleCreated', `${actual ? 'updated' : 'created'} IAM role ${want.arn}: ${[...new Set(names)].join(', ')}`);
    }
    // Condition reasons say how things are, not what this pass did: a pass that writes nothing
    // must leave the status as it was. What was done goes into Events.
    const message = `role ${want.arn} matches the spec`;
    this.lastSync.set(key, { generation, at: this.now().getTime(), message });
    return { state: 'synced', reason: 'Synced', message };
  }

  private async namespaceAnnotations(namespace: string): Promise<Record<string, string>> {
    const hit = this.namespaceCache.get(namespace);
    if (hit && this.now().getTime() - hit.at < NAMESPACE_CACHE_MS) return hit.annotations;
    const annotations = await this.kube.getNamespaceAnnotations(namespace);
    this.namespaceCache.set(namespace, { at: this.now().getTime(), annotations });
    return annotations;
  }

  /** This object's place among its namespace's role-managing objects, oldest first. */
  private roleIndex(obj: IamServiceAccount): number {
    const created = (o: IamServiceAccount) => new Date(o.metadata.creationTimestamp ?? 0).getTime();
    const peers = this.opts
      .objectsInNamespace(obj.metadata.namespace)
      .filter((o) => o.spec.attachRoleARN === undefined && !o.metadata.deletionTimestamp)
      .sort((a, b) => created(a) - created(b) || a.metadata.name.localeCompare(b.metadata.name));
    const i = peers.findIndex((o) => o.metadata.name === obj.metadata.name);
    return i === -1 ? peers.length : i;
  }

  /** Customer-managed policies are read and held to the same action rules as inline ones. */
  private async checkCustomerPolicies(arns: readonly string[]): Promise<void> {
    for (const arn of arns) {
      if (/^arn:[^:]+:iam::aws:/.test(arn)) continue;
      let hit = this.policyCache.get(arn);
      if (!hit || this.now().getTime() - hit.at >= POLICY_CACHE_MS) {
        hit = { at: this.now().getTime(), document: await this.roles.policyDocument(arn) };
        this.policyCache.set(arn, hit);
      }
      if (hit.document === undefined) {
        this.policyCache.delete(arn);
        throw new WaitError('PolicyNotFound', `IAM has no policy ${arn}: create it or fix attachPolicyARNs`);
      }
      const why = deniedGrant(parseDocument(hit.document), this.opts.policy.deniedActions);
      if (why) throw new TerminalError('PolicyDenied', `${arn}: ${why}`);
    }
  }

  private async requireProvider(identity: ClusterIdentity): Promise<void> {
    const checkedAt = this.providerChecked.get(identity.oidcProviderArn);
    if (checkedAt !== undefined && this.now().getTime() - checkedAt < this.opts.driftPeriodMs) return;
    if (!(await this.roles.oidcProviderExists(identity.oidcProviderArn))) {
      throw new WaitError(
        'OIDCProviderNotFound',
        `IAM has no OIDC provider ${identity.oidcProviderArn}: create it for the cluster's issuer (eksctl utils associate-iam-oidc-provider, or aws iam create-open-id-connect-provider)`,
      );
    }
    this.providerChecked.set(identity.oidcProviderArn, this.now().getTime());
  }

  /** Names of the cached ServiceAccounts whose owner annotation names this object. */
  private ownedServiceAccountNames(obj: IamServiceAccount): string[] {
    return (this.opts.cachedServiceAccounts?.(obj.metadata.namespace) ?? [])
      .filter((sa) => sa.metadata?.annotations?.[OWNER_ANNOTATION] === obj.metadata.name)
      .map((sa) => sa.metadata?.name ?? '')
      .filter((name) => name !== '');
  }

  private async readServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    return this.opts.cachedServiceAccount(namespace, name) ?? (await this.kube.getServiceAccount(namespace, name));
  }

  private async syncServiceAccount(ctx: Ctx, want: DesiredServiceAccount, previousName: string | undefined): Promise<PartOutcome> {
    const { obj } = ctx;
    const ns = obj.metadata.namespace;
    // Every other ServiceAccount this object owns is released: the one status names, and any the
    // cache shows (a rename whose pass was cut short before status recorded the new name).
    const stale = new Set([previousName, ...this.ownedServiceAccountNames(obj)]);
    stale.delete(want.name);
    for (const name of stale) if (name !== undefined) await this.releaseServiceAccount(ctx, name);
    const current = await this.readServiceAccount(ns, want.name);
    if (!current && !want.create) {
      throw new WaitError('ServiceAccountNotFound', `ServiceAccount ${ns}/${want.name} does not exist and serviceAccount.create is false: create it, or set create: true`);
    }
    this.assertMayWrite(obj, want, current);
    const createdByUs = !current || current.metadata?.annotations?.[CREATED_ANNOTATION] === 'true';
    const annotations = createdByUs ? { ...want.annotations, [CREATED_ANNOTATION]: 'true' } : want.annotations;
    const upToDate =
      current !== undefined &&
      Object.entries(want.labels).every(([k, v]) => current.metadata?.labels?.[k] === v) &&
      Object.entries(annotations).every(([k, v]) => current.metadata?.annotations?.[k] === v);
    if (!upToDate) {
      ctx.log.info(current ? 'annotating ServiceAccount' : 'creating ServiceAccount', { serviceAccount: want.name });
      await this.kube.applyServiceAccount(ns, want.name, want.labels, annotations);
      this.event(ctx, 'Normal', current ? 'ServiceAccountAnnotated' : 'ServiceAccountCreated', `${current ? 'annotated' : 'created'} ServiceAccount ${want.name}`);
    }
    return { state: 'synced', reason: 'Synced', message: `ServiceAccount ${want.name} carries the role annotations` };
  }

  /**
   * Refuses a ServiceAccount this object may not write: another object's, or one that exists and
   * is not the operator's without overrideExisting. Read-only, so it also runs before any IAM write.
   */
  private assertMayWrite(obj: IamServiceAccount, want: DesiredServiceAccount, current: V1ServiceAccount | undefined): void {
    const ns = obj.metadata.namespace;
    const owner = current?.metadata?.annotations?.[OWNER_ANNOTATION];
    if (current && owner !== undefined && owner !== obj.metadata.name) {
      throw new TerminalError('ServiceAccountConflict', `ServiceAccount ${ns}/${want.name} belongs to IamServiceAccount ${owner}: choose another serviceAccount.name`);
    }
    if (current && owner === undefined && want.create && !want.overrideExisting) {
      throw new TerminalError(
        'ServiceAccountExists',
        `ServiceAccount ${ns}/${want.name} exists and was not created by irsa-operator: set serviceAccount.overrideExisting: true to take it over, or serviceAccount.create: false to only annotate it`,
      );
    }
  }

  /** Deletes a ServiceAccount the operator created, or takes back its fields from one it annotated. */
  private async releaseServiceAccount(ctx: Ctx, name: string): Promise<void> {
    const ns = ctx.obj.metadata.namespace;
    const sa = await this.readServiceAccount(ns, name);
    if (sa?.metadata?.annotations?.[OWNER_ANNOTATION] !== ctx.obj.metadata.name) return;
    if (sa.metadata.annotations[CREATED_ANNOTATION] === 'true' && sa.metadata.uid) {
      ctx.log.info('deleting ServiceAccount', { serviceAccount: name });
      await this.kube.deleteServiceAccount(ns, name, sa.metadata.uid);
    } else {
      ctx.log.info('removing role annotations from ServiceAccount', { serviceAccount: name });
      await this.kube.applyServiceAccount(ns, name, {}, {});
    }
  }

  private async finalize(ctx: Ctx): Promise<QueueVerdict> {
    const { obj, key } = ctx;
    const remaining = removeFinalizer(obj.metadata.finalizers, FINALIZER);
    if (!remaining) return { kind: 'done' };
    try {
      await this.cleanUp(ctx);
    } catch (e) {
      const part = failurePart(e);
      ctx.log.warn('cleanup failed; the finalizer stays', { reason: part.reason, message: part.message });
      await this.writeStatus(
        ctx,
        { role: { ...part, state: part.state === 'stalled' ? 'stalled' : 'progressing' }, serviceAccount: undefined, fields: { ...obj.status } },
        obj.metadata.generation ?? 0,
      );
      return part.state === 'stalled' ? { kind: 'drop' } : { kind: 'retry' };
    }
    await this.kube.patchFinalizers(obj.metadata.namespace, obj.metadata.name, remaining, obj.metadata.resourceVersion ?? '');
    this.lastSync.delete(key);
    ctx.log.info('finalized');
    return { kind: 'done' };
  }

  private async cleanUp(ctx: Ctx): Promise<void> {
    const { obj } = ctx;
    // The status names what the last pass that could write status saw. A pass cut short after it
    // wrote to AWS or the cluster (a crash, the apiserver unreachable) left no trace there, so the
    // names the spec implies are released too; both paths check ownership before any write.
    if (obj.spec.roleOnly !== true) {
      const saNames = new Set([obj.status?.serviceAccountName, obj.spec.serviceAccount?.name ?? obj.metadata.name, ...this.ownedServiceAccountNames(obj)]);
      for (const saName of saNames) if (saName) await this.releaseServiceAccount(ctx, saName);
    }
    if (obj.spec.attachRoleARN !== undefined || (obj.spec.deletionPolicy ?? 'Delete') === 'Retain') return;
    const identity = await this.opts.identity();
    const wanted = desiredState(obj, identity);
    const roleNames = new Set([obj.status?.roleName, wanted.ok && wanted.desired.mode === 'managed' ? wanted.desired.roleName : undefined]);
    for (const roleName of roleNames) {
      if (!roleName) continue;
      const actual = await this.roles.read(roleName);
      if (!actual) continue;
      if (!ownedBy(actual.tags, identity.clusterName, obj.metadata.namespace, obj.metadata.name)) {
        ctx.log.warn('role is not owned by this object; leaving it', { role: roleName });
        continue;
      }
      ctx.log.info('deleting IAM role', { role: roleName });
      await this.roles.delete(roleName);
      this.event(ctx, 'Normal', 'RoleDeleted', `deleted IAM role ${roleName}`);
    }
  }

  private async writeStatus(ctx: Ctx, outcome: Outcome, generation: number): Promise<void> {
    const { obj } = ctx;
    const prevReady = findCondition(obj.status?.conditions, 'Ready');
    const { status, changed } = buildStatus(obj.status, outcome, generation, this.now().toISOString());
    if (!changed) return;
    try {
      await this.kube.patchStatus(obj.metadata.namespace, obj.metadata.name, status);
    } catch (e) {
      if (isKubeStatus(e, 404)) return;
      throw e;
    }
    const ready = findCondition(status.conditions, 'Ready');
    if (ready && (ready.status !== prevReady?.status || ready.reason !== prevReady.reason)) {
      this.event(ctx, ready.status === 'True' ? 'Normal' : 'Warning', ready.reason, ready.message);
    }
  }

  /** Records an Event without holding up the reconcile; flush() waits for the ones in flight. */
  private event(ctx: Ctx, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const p = this.kube
      .createEvent({ regarding: ctx.obj, type, reason, message }, this.now())
      .catch((e: unknown) => {
        ctx.log.warn('could not record an Event', { reason, error: errorMessage(e) });
      })
      .finally(() => this.pendingEvents.delete(p));
    this.pendingEvents.add(p);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pendingEvents]);
  }
}

/** Parses a document as IAM returns it; an unreadable one counts as empty. */
function parseDocument(text: string): PolicyDocument {
  try {
    return parsePolicyDocument(text);
  } catch {
    return {};
  }
}

/** A transient failure backs off; a wait (WaitError) looks again after waitMs; a terminal one waits for a change. */
function needsBackoff(e: unknown, part: PartOutcome): boolean {
  return part.state === 'progressing' && !(e instanceof WaitError);
}

/** How a failure shows in status: terminal -> stalled, expected wait or transient -> progressing. */
export function failurePart(e: unknown): PartOutcome {
  const terminal = terminalCause(e);
  if (terminal) return { state: 'stalled', reason: terminal.reason, message: terminal.message };
  if (e instanceof WaitError) return { state: 'progressing', reason: e.reason, message: e.message };
  if (e instanceof ApiException) return { state: 'progressing', reason: 'KubernetesApiError', message: `Kubernetes API answered ${e.code}: ${errorMessage(e)}` };
  return { state: 'progressing', reason: awsReason(e), message: errorMessage(e) };
}
