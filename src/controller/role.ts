// The role part: the IAM role an object manages (created, kept equal to the spec, deleted with
// the object), or the existing role it names (attachRoleARN: only its trust is verified). Either
// way the trust policy IAM holds after the pass is judged by IAM's rules (trust-check.ts) for a
// token of the object's ServiceAccount, and of each other cluster's (spec.additionalClusters).
import { TerminalError, WaitError } from '../errors.ts';
import { flatString } from '../strings.ts';
import { identityIn, targetAccount } from '../policy/accounts.ts';
import {
  desiredState,
  OWNER_TAGS,
  ownedBy,
  type ClusterIdentity,
  type Desired,
  type DesiredResult,
  type DesiredRole,
  type RoleDefaults,
} from '../policy/desired.ts';
import type { IamServiceAccountSpec } from '../api/types.ts';
import { isAlreadyExists, isDeleteConflict } from '../aws/errors.ts';
import { diffRole, roleAsWritten, type ActualRole, type IamOperation } from '../policy/diff.ts';
import { parsePolicyDocumentOrEmpty, type PolicyDocument } from '../policy/document.ts';
import { judgePaths, judgeTrustAll, type TrustJudgment } from '../policy/trust-check.ts';
import type { Admission } from './admission.ts';
import type { EventRecorder } from './events.ts';
import type { Part, Pass } from './part.ts';
import type { RoleAttachments, RoleStore } from './ports.ts';
import type { PartOutcome } from './status.ts';
import { TtlCache } from './ttl-cache.ts';

export interface RoleWant {
  desired: Desired;
  /** The cluster as seen from the role's account (policy/accounts.ts). */
  identity: ClusterIdentity;
  /** IAM of the role's account. */
  roles: RoleStore;
  /** What another spec of the same object would want, with everything else as in this pass. */
  desiredFor: (spec: IamServiceAccountSpec) => DesiredResult;
}

/** The last full sync of an object. */
interface Synced {
  generation: number;
  /** The spec it synced (the informer's own object while it is current: shared, not copied). */
  spec: IamServiceAccountSpec;
  /**
   * Why the trust admits the ServiceAccount, when judging the operator's own trust policy says
   * otherwise (ownTrustJudgment): an attached role, or a trust IAM holds with its statements in
   * another order. Most memories keep none (a 280-byte message per object at 10,000 objects), and
   * the role's message is worked out again too (inSyncMessage).
   */
  trust?: string;
}

export type RoleSeen =
  /** This process synced the role at this generation less than a drift period ago: no AWS read. */
  | { kind: 'fresh' }
  /**
   * `assumed`: not read from IAM but taken to be so: the role as the last full sync left it (a
   * spec change), or none for an object that never had one (created without a GetRole first; a
   * role already there makes CreateRole fail, and the pass reads it and decides again).
   */
  | { kind: 'managed'; actual: ActualRole | undefined; assumed?: boolean }
  | { kind: 'attached'; found: { arn: string; trustPolicy: string } | undefined };

export interface RolePlan {
  ops: IamOperation[];
  /** Whether IAM has the role already (the operations update it rather than create it). */
  exists: boolean;
  /** The role exists without ownership tags and the configuration allows adopting it. */
  adopting: boolean;
  message: string;
  /**
   * Why a token of the ServiceAccount is admitted by the trust policy IAM holds after the plan,
   * when the plan comes from a full read, or from the last one and the writes since (it renews the
   * memory); undefined for a plan from the memory (`fresh`), whose judgment trustOf gives.
   */
  trust: string | undefined;
  /** Made from what the role was taken to be, not from a read: a failed write reads it and decides again. */
  assumed: boolean;
}

export interface RolePartDeps {
  /** IAM of an account the operator writes roles to; undefined for one it is not configured for. */
  rolesIn: (account: string, ownAccount: string) => RoleStore | undefined;
  admission: Admission;
  events: EventRecorder;
  identity: () => Promise<ClusterIdentity>;
  roleDefaults: RoleDefaults;
  adoptExistingRoles: boolean;
  driftPeriodMs: number;
  now: () => number;
}

export class RolePart implements Part<RoleWant, RoleSeen, RolePlan> {
  private readonly deps: RolePartDeps;
  /** The last full sync per object key, with its generation. */
  private readonly synced: TtlCache<string, Synced>;
  /** How long a full sync is remembered (setSweeping). */
  private memoMs: number;

  constructor(deps: RolePartDeps) {
    this.deps = deps;
    this.synced = new TtlCache(deps.driftPeriodMs, deps.now);
    this.memoMs = deps.driftPeriodMs;
  }

  async observe(pass: Pass, { desired, desiredFor, roles }: RoleWant): Promise<RoleSeen> {
    const memo = this.synced.get(pass.key);
    if (memo?.generation === (pass.obj.metadata.generation ?? 0)) {
      memo.spec = pass.obj.spec;
      return { kind: 'fresh' };
    }
    if (desired.mode === 'attached') return { kind: 'attached', found: await roles.readTrust(desired.roleName) };
    await this.deps.admission.checkPolicyDocuments(desired.role.managedPolicyArns, roles);
    // A spec change within the memory of the last sync: IAM holds what that sync wrote (the drift
    // sweeps say so, and forget the memory when it does not), so only the difference is written.
    const before = memo && desiredFor(memo.spec);
    if (before?.ok && before.desired.mode === 'managed' && before.desired.roleName === desired.roleName)
      return { kind: 'managed', actual: roleAsWritten(before.desired.role), assumed: true };
    // A new object whose role name is derived (not chosen in the spec) finds no role of that name,
    // or a leftover of its own: it creates without reading first. A chosen name, or a
    // configuration that adopts roles, is read first, so a role that is someone else's is
    // refused (or adopted) without even a failed write.
    if (pass.obj.status?.roleName === undefined && pass.obj.spec.roleName === undefined && !this.deps.adoptExistingRoles)
      return { kind: 'managed', actual: undefined, assumed: true };
    return { kind: 'managed', actual: await roles.read(desired.role.name) };
  }

  decide(pass: Pass, { desired, identity }: RoleWant, seen: RoleSeen): RolePlan {
    const { namespace, name } = pass.obj.metadata;
    return decideRole(desired, seen, { cluster: identity.clusterName, namespace, name }, this.deps.adoptExistingRoles);
  }

  async apply(pass: Pass, want: RoleWant, plan: RolePlan): Promise<PartOutcome> {
    const { desired, roles } = want;
    if (plan.adopting) pass.log.warn('adopting an existing IAM role', { role: desired.roleName });
    if (plan.ops.length > 0) {
      const names = plan.ops.map((o) => o.op);
      pass.log.info(plan.exists ? 'updating IAM role' : 'creating IAM role', { role: desired.roleName, operations: names });
      try {
        await roles.apply(desired.roleName, plan.ops);
      } catch (e) {
        // IAM was not as remembered, or is half-written: the next pass reads it, or this one
        // when the role it took to be absent is there.
        this.forget(pass.key);
        if (!plan.assumed || !isAlreadyExists(e)) throw e;
        const seen: RoleSeen = { kind: 'managed', actual: await roles.read(desired.roleName) };
        return this.apply(pass, want, this.decide(pass, want, seen));
      }
      const verb = plan.exists ? 'updated' : 'created';
      pass.done.push({
        reason: plan.exists ? 'RoleUpdated' : 'RoleCreated',
        message: `${verb} IAM role ${desired.roleArn} (${[...new Set(names)].join(', ')})`,
      });
    }
    if (plan.trust !== undefined) {
      // Kept for two drift periods per object: a message only when it cannot be worked out again,
      // and then flat, not as the parts it was built from.
      const trust = plan.trust === ownTrustJudgment(desired) ? undefined : flatString(plan.trust);
      this.synced.set(pass.key, { generation: pass.obj.metadata.generation ?? 0, spec: pass.obj.spec, trust }, this.memoMs);
    }
    return { state: 'synced', reason: 'Synced', message: plan.message };
  }

  /**
   * Deletes the role (deletionPolicy Delete) if it is this object's. The status names the role the
   * last status write saw; a pass cut short after it created a role left no trace there, so the
   * role the spec implies is looked at too. Ownership is read before any write; what to detach
   * first comes from the memory of the last full sync when there is one (a policy attached since
   * makes DeleteRole fail with DeleteConflict, and the role is then read whole).
   */
  async release(pass: Pass): Promise<void> {
    const { obj } = pass;
    const memo = this.synced.get(pass.key);
    this.forget(pass.key);
    if (obj.spec.attachRoleARN !== undefined || (obj.spec.deletionPolicy ?? 'Delete') === 'Retain') return;
    const own = await this.deps.identity();
    const account = targetAccount(obj.spec, own.account);
    // An account this object may not use is never touched, not even to delete (it made no role there).
    const refused = await this.deps.admission.accountRefusal(obj, account, own.account);
    const roles = refused ? undefined : this.deps.rolesIn(account, own.account);
    if (!roles) {
      pass.log.warn('the role is in an account this object may not use (any more); leaving it', { account, reason: refused?.reason });
      return;
    }
    const identity = identityIn(own, account);
    const wanted = desiredState(obj, identity, this.deps.roleDefaults);
    const synced = memo && desiredState({ ...obj, spec: memo.spec }, identity, this.deps.roleDefaults);
    const remembered = synced?.ok && synced.desired.mode === 'managed' ? synced.desired.role : undefined;
    const names = new Set([obj.status?.roleName, wanted.ok && wanted.desired.mode === 'managed' ? wanted.desired.roleName : undefined]);
    for (const roleName of names) {
      if (!roleName) continue;
      // What to detach first, from the memory of the last sync when there is one; ownership is
      // always read (GetRole): tags removed by hand since then leave the role alone.
      const recalled = remembered?.name === roleName ? remembered : undefined;
      const actual = recalled ? await recalledAttachments(roles, recalled) : await roles.readForDelete(roleName);
      if (!actual) continue;
      if (!ownedBy(actual.tags, identity.clusterName, obj.metadata.namespace, obj.metadata.name)) {
        pass.log.warn('role is not owned by this object; leaving it', { role: roleName });
        continue;
      }
      try {
        await this.deleteOwned(pass, roles, roleName, actual);
      } catch (e) {
        // A policy attached since the last sync: read what the role holds and delete again.
        if (!recalled || !isDeleteConflict(e)) throw e;
        const read = await roles.readForDelete(roleName);
        if (read) await this.deleteOwned(pass, roles, roleName, read);
      }
    }
  }

  private async deleteOwned(pass: Pass, roles: RoleStore, roleName: string, attached: RoleAttachments): Promise<void> {
    pass.log.info('deleting IAM role', { role: roleName });
    await roles.delete(roleName, attached);
    this.deps.events.record(pass.obj, pass.log, 'Normal', 'RoleDeleted', `deleted IAM role ${roleName}`);
  }

  /** Forgets an object that is gone. */
  forget(key: string): void {
    this.synced.delete(key);
  }

  /**
   * A drift sweep found the role as the last full sync left it: the memory of that sync is kept
   * for two more periods, so the object's periodic pass reads nothing. A memory already gone, or of
   * another generation, is left gone: that object's next pass reads the role.
   */
  confirm(key: string, generation: number): void {
    const memo = this.synced.get(key);
    if (memo?.generation === generation) this.synced.set(key, memo, 2 * this.deps.driftPeriodMs);
  }

  /**
   * While sweeps succeed, a full sync is remembered for two periods (the next sweep renews it, and
   * one failed sweep does not send every object back to its own reads); otherwise for one.
   */
  setSweeping(on: boolean): void {
    this.memoMs = (on ? 2 : 1) * this.deps.driftPeriodMs;
  }

  /** Why the role's trust admits the object's ServiceAccount, as of its last full sync. */
  trustOf(key: string, desired: Desired): string | undefined {
    const memo = this.synced.get(key);
    return memo && (memo.trust ?? ownTrustJudgment(desired));
  }
}

/**
 * Why the operator's own trust policy for `desired` admits what it must: what a full sync says
 * when IAM holds the trust as the operator writes it. Undefined for an attached role (its trust is
 * someone else's). Pure.
 */
function ownTrustJudgment(desired: Desired): string | undefined {
  return desired.mode === 'managed' ? judgeTrustPaths(desired.role.trustPolicy, desired).message : undefined;
}

function judgeTrustPaths(doc: PolicyDocument, desired: Extract<Desired, { mode: 'managed' }>): TrustJudgment {
  return judgePaths(doc, desired.role.arn, {
    irsa: desired.paths.irsa ? desired.trust : undefined,
    others: desired.otherClusters,
    pod: desired.podIdentity,
  });
}

/** What to do about the role, from what was seen. Pure; throws when the role cannot be used. */
export function decideRole(
  desired: Desired,
  seen: RoleSeen,
  owner: { cluster: string; namespace: string; name: string },
  adoptExistingRoles: boolean,
): RolePlan {
  if (seen.kind === 'fresh')
    return { ops: [], exists: true, adopting: false, assumed: false, message: inSyncMessage(desired), trust: undefined };
  if (desired.mode === 'attached') return decideAttached(desired, seen.kind === 'attached' ? seen.found : undefined);
  const plan = decideManaged(desired, seen.kind === 'managed' ? seen.actual : undefined, owner, adoptExistingRoles);
  return { ...plan, assumed: seen.kind === 'managed' && seen.assumed === true };
}

function decideAttached(
  desired: Extract<Desired, { mode: 'attached' }>,
  found: { arn: string; trustPolicy: string } | undefined,
): RolePlan {
  if (!found) throw new WaitError('RoleNotFound', `IAM has no role ${desired.roleArn}: create it or fix attachRoleARN`);
  if (found.arn !== desired.roleArn) {
    throw new TerminalError(
      'RoleArnMismatch',
      `attachRoleARN ${desired.roleArn} does not match the role IAM has under that name (${found.arn})`,
    );
  }
  const judged = judgeTrustAll(parsePolicyDocumentOrEmpty(found.trustPolicy), desired.roleArn, desired.trust, desired.otherClusters);
  // Someone else owns the role: wait for them to fix its trust.
  if (!judged.admitted) throw new WaitError('TrustPolicyMismatch', judged.message);
  return { ops: [], exists: true, adopting: false, assumed: false, message: inSyncMessage(desired), trust: judged.message };
}

function decideManaged(
  desired: Extract<Desired, { mode: 'managed' }>,
  actual: ActualRole | undefined,
  owner: { cluster: string; namespace: string; name: string },
  adoptExistingRoles: boolean,
): Omit<RolePlan, 'assumed'> {
  const want = desired.role;
  const adopting = actual !== undefined && !ownedBy(actual.tags, owner.cluster, owner.namespace, owner.name);
  if (actual && adopting) refuseAdoption(want.name, actual, adoptExistingRoles);
  if (actual && actual.path !== want.path) {
    throw new TerminalError(
      'RolePathMismatch',
      `IAM role ${want.name} has path ${actual.path}, not ${want.path}; IAM cannot move a role: delete it or restore the path`,
    );
  }
  const ops = diffRole(want, actual);
  // The trust IAM holds once the operations ran: ours if they write it, else the one read.
  const writesTrust = !actual || ops.some((o) => o.op === 'UpdateAssumeRolePolicy');
  const trust = writesTrust ? want.trustPolicy : parsePolicyDocumentOrEmpty(actual.trustPolicy);
  const judged = judgeTrustPaths(trust, desired);
  if (!judged.admitted) {
    throw new TerminalError(
      'TrustPolicyMismatch',
      `the trust policy the operator would leave on ${want.arn} is refused by IAM's rules: ${judged.message}`,
    );
  }
  return { ops, exists: actual !== undefined, adopting, message: inSyncMessage(desired), trust: judged.message };
}

/**
 * RoleSynced's message once the role is as the spec wants. Condition reasons say how things are,
 * not what this pass did: a pass that writes nothing must leave the status as it was. What was
 * done goes into Events.
 */
function inSyncMessage(desired: Desired): string {
  return desired.mode === 'attached'
    ? `existing role ${desired.roleArn} trusts this ServiceAccount`
    : `role ${desired.role.arn} matches the spec`;
}

/** A role that is not this object's may be taken over only if it is nobody's and adoption is on. */
function refuseAdoption(name: string, actual: ActualRole, adoptExistingRoles: boolean): void {
  if (actual.tags[OWNER_TAGS.managedBy] !== undefined) {
    const tag = (key: string) => actual.tags[key] ?? '?';
    throw new TerminalError(
      'RoleConflict',
      `IAM role ${name} belongs to IamServiceAccount ${tag(OWNER_TAGS.namespace)}/${tag(OWNER_TAGS.name)} in cluster ${tag(OWNER_TAGS.cluster)}: choose another roleName`,
    );
  }
  if (!adoptExistingRoles) {
    throw new TerminalError(
      'RoleNotOwned',
      `IAM role ${name} exists and was not created by irsa-operator: choose another roleName, use attachRoleARN to use that role as it is, or ask the platform team to allow adoptExistingRoles`,
    );
  }
}

/**
 * A role to delete as the last full sync wrote it: its tags read (ownership is always read), its
 * attachments remembered. Undefined when the role is gone.
 */
async function recalledAttachments(roles: RoleStore, recalled: DesiredRole): Promise<RoleAttachments | undefined> {
  const tags = await roles.readTags(recalled.name);
  return tags && { tags, managedPolicyArns: recalled.managedPolicyArns, inlinePolicyNames: Object.keys(recalled.inlinePolicies) };
}
