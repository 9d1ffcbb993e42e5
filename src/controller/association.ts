// The association part: the EKS Pod Identity association that binds the object's ServiceAccount
// to its role (identity PodIdentity or Both), created, kept equal to the spec, and deleted when the
// object goes back to IRSA (once the ServiceAccount carries its annotation again) or is deleted
// with deletionPolicy Delete. An association of the ServiceAccount that is not this object's is
// never taken over (AssociationConflict). Objects that never used Pod Identity make no EKS call.
import { awsErrorCode } from '../aws/errors.ts';
import { terminalCause, TerminalError, WaitError } from '../errors.ts';
import { ownedBy, type DesiredAssociation } from '../policy/desired.ts';
import type { Part, Pass } from './part.ts';
import type { ActualAssociation, AssociationStore } from './ports.ts';
import type { PartOutcome } from './status.ts';
import { TtlCache } from './ttl-cache.ts';

export interface AssociationWant {
  /** The association the spec asks for; undefined: none (identity IRSA). */
  desired: DesiredAssociation | undefined;
  cluster: string;
  namespace: string;
  /** The ServiceAccount the object names now. */
  serviceAccount: string;
  /** The association status names, if any (the one this object made). */
  knownId: string | undefined;
}

export type AssociationSeen =
  /** Synced at this generation less than a drift period ago, and not found drifted since: no EKS read. */
  | { kind: 'fresh'; id: string; arn: string }
  /** Nothing to look at: no association wanted and none recorded. */
  | { kind: 'none' }
  | { kind: 'read'; found: ActualAssociation[] };

export interface AssociationPlan {
  create: boolean;
  /** The id of this object's association to update to the spec. */
  update: string | undefined;
  /** This object's associations to delete (identity back to IRSA, or a renamed ServiceAccount). */
  remove: ActualAssociation[];
  /** The association that is in sync already, if any. */
  current: { id: string; arn: string } | undefined;
}

export interface AssociationPartDeps {
  associations: AssociationStore;
  driftPeriodMs: number;
  now: () => number;
}

/** EKS's error at its limit of associations per cluster (callAws wraps it in a TerminalError). */
const LIMIT_CODE = 'ResourceLimitExceededException';
const atLimit = (e: unknown) => awsErrorCode(e) === LIMIT_CODE || awsErrorCode(terminalCause(e)?.cause) === LIMIT_CODE;

export class AssociationPart implements Part<AssociationWant, AssociationSeen, AssociationPlan> {
  private readonly deps: AssociationPartDeps;
  /** The last sync per object key: its generation and the association then. */
  private readonly synced: TtlCache<string, { generation: number; id: string; arn: string }>;
  /** What the last pass left, per key: the association's id and ARN, or undefined when there is none. */
  private readonly last = new Map<string, { id: string; arn: string } | undefined>();

  constructor(deps: AssociationPartDeps) {
    this.deps = deps;
    this.synced = new TtlCache(deps.driftPeriodMs, deps.now);
  }

  async observe(pass: Pass, want: AssociationWant): Promise<AssociationSeen> {
    const memo = this.synced.get(pass.key);
    if (want.desired && memo?.generation === (pass.obj.metadata.generation ?? 0)) return { kind: 'fresh', id: memo.id, arn: memo.arn };
    if (!want.desired && want.knownId === undefined) return { kind: 'none' };
    const found = await this.deps.associations.find(want.cluster, want.namespace, want.serviceAccount);
    if (want.knownId !== undefined && !found.some((a) => a.id === want.knownId)) {
      const known = await this.deps.associations.describe(want.cluster, want.knownId);
      if (known) found.push(known);
    }
    return { kind: 'read', found };
  }

  decide(pass: Pass, want: AssociationWant, seen: AssociationSeen): AssociationPlan {
    return decideAssociation(want, seen, { cluster: want.cluster, namespace: pass.obj.metadata.namespace, name: pass.obj.metadata.name });
  }

  async apply(pass: Pass, want: AssociationWant, plan: AssociationPlan): Promise<PartOutcome> {
    const store = this.deps.associations;
    for (const a of plan.remove) {
      pass.log.info('deleting EKS Pod Identity association', { association: a.id, serviceAccount: a.serviceAccount });
      await store.delete(a.clusterName, a.id);
      pass.done.push({
        reason: 'AssociationDeleted',
        message: `deleted EKS Pod Identity association ${a.id} of ${a.namespace}/${a.serviceAccount}`,
      });
    }
    let current = plan.current;
    const desired = want.desired;
    if (desired && plan.create) {
      pass.log.info('creating EKS Pod Identity association', { serviceAccount: desired.serviceAccount });
      const made = await this.create(desired);
      current = { id: made.id, arn: made.arn };
      pass.done.push({
        reason: 'AssociationCreated',
        message: `created EKS Pod Identity association ${made.id} for ServiceAccount ${desired.serviceAccount}`,
      });
    } else if (desired && plan.update !== undefined) {
      pass.log.info('updating EKS Pod Identity association', { association: plan.update });
      const updated = await store.update(plan.update, desired);
      current = { id: updated.id, arn: updated.arn };
      pass.done.push({ reason: 'AssociationUpdated', message: `updated EKS Pod Identity association ${updated.id}` });
    }
    this.last.set(pass.key, current);
    if (!desired || !current) {
      this.synced.delete(pass.key);
      return { state: 'synced', reason: 'Synced', message: 'no EKS Pod Identity association (identity IRSA)' };
    }
    this.synced.set(pass.key, { generation: pass.obj.metadata.generation ?? 0, ...current });
    return {
      state: 'synced',
      reason: 'Synced',
      message: `EKS Pod Identity association ${current.id} binds ServiceAccount ${desired.serviceAccount} to ${desired.roleArn}`,
    };
  }

  /** Creates the association; at EKS's per-cluster limit, waits (others may be deleted). */
  private async create(desired: DesiredAssociation): Promise<ActualAssociation> {
    try {
      return await this.deps.associations.create(desired);
    } catch (e) {
      if (!atLimit(e)) throw e;
      throw new WaitError(
        'AssociationLimitExceeded',
        `cluster ${desired.clusterName} holds as many EKS Pod Identity associations as EKS allows (5,000 per cluster): delete unused ones, or use identity: IRSA for this ServiceAccount`,
      );
    }
  }

  /**
   * With deletionPolicy Delete, deletes this object's associations: the one status names and the one
   * of the ServiceAccount the spec names (a pass cut short before its status write). Retain keeps
   * them with the role: both are AWS resources, and pods go on working. Ownership is checked first.
   */
  async release(pass: Pass, where?: { cluster: string; serviceAccount: string }): Promise<void> {
    const { obj } = pass;
    this.forget(pass.key);
    if (!where || (obj.spec.deletionPolicy ?? 'Delete') === 'Retain') return;
    const knownId = obj.status?.podIdentityAssociationID;
    if ((obj.spec.identity ?? 'IRSA') === 'IRSA' && knownId === undefined) return;
    const want: AssociationWant = {
      desired: undefined,
      cluster: where.cluster,
      namespace: obj.metadata.namespace,
      serviceAccount: where.serviceAccount,
      knownId,
    };
    const seen = await this.observe(pass, want);
    const plan = decideAssociation(want, seen, { cluster: where.cluster, namespace: obj.metadata.namespace, name: obj.metadata.name });
    await this.apply(pass, want, plan);
  }

  /** The association the last pass of `key` left: for status. */
  current(key: string): { id: string; arn: string } | undefined {
    return this.last.get(key);
  }

  /**
   * A drift sweep found the association as the last sync left it: that memory is kept for two
   * more periods, so the object's periodic pass reads nothing (as the role part's confirm).
   */
  confirm(key: string, generation: number): void {
    const memo = this.synced.get(key);
    if (memo?.generation === generation) this.synced.set(key, memo, 2 * this.deps.driftPeriodMs);
  }

  /** Forgets an object that is gone, or whose association a drift sweep found changed. */
  forget(key: string): void {
    this.synced.delete(key);
    this.last.delete(key);
  }
}

/** Whether an association says what the spec asks. */
export function associationMatches(a: ActualAssociation, want: DesiredAssociation): boolean {
  return (
    a.namespace === want.namespace &&
    a.serviceAccount === want.serviceAccount &&
    a.roleArn === want.roleArn &&
    a.targetRoleArn === want.targetRoleArn &&
    a.disableSessionTags === want.disableSessionTags
  );
}

/** What to do about the association, from what was seen. Pure; throws AssociationConflict rather than take over another's. */
export function decideAssociation(
  want: AssociationWant,
  seen: AssociationSeen,
  owner: { cluster: string; namespace: string; name: string },
): AssociationPlan {
  if (seen.kind === 'fresh') return { create: false, update: undefined, remove: [], current: { id: seen.id, arn: seen.arn } };
  const found = seen.kind === 'read' ? seen.found : [];
  const ours = (a: ActualAssociation) => a.ownerArn === undefined && ownedBy(a.tags, owner.cluster, owner.namespace, owner.name);
  const desired = want.desired;
  if (!desired) return { create: false, update: undefined, remove: found.filter(ours), current: undefined };
  const forSa = (a: ActualAssociation) => a.namespace === desired.namespace && a.serviceAccount === desired.serviceAccount;
  const foreign = found.find((a) => forSa(a) && !ours(a));
  if (foreign) {
    const by = foreign.ownerArn ? `the EKS add-on ${foreign.ownerArn}` : 'someone else (no irsa.dev ownership tags of this object)';
    throw new TerminalError(
      'AssociationConflict',
      `ServiceAccount ${desired.namespace}/${desired.serviceAccount} already has EKS Pod Identity association ${foreign.id} (role ${foreign.roleArn}), made by ${by}; EKS allows one per ServiceAccount and the operator never takes one over: delete it, or choose another serviceAccount.name`,
    );
  }
  const mine = found.filter(ours);
  const keep = mine.find(forSa);
  const remove = mine.filter((a) => a !== keep);
  if (!keep) return { create: true, update: undefined, remove, current: undefined };
  const current = { id: keep.id, arn: keep.arn };
  return { create: false, update: associationMatches(keep, desired) ? undefined : keep.id, remove, current };
}
