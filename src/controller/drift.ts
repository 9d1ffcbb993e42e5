// The drift check as one sweep of the account instead of a read per object: every role the
// objects want, read in a few paged calls (aws/sweep.ts), compared with what each object wants.
// An object whose role differs (or is gone, or whose trust no longer admits its ServiceAccount)
// is enqueued for a full pass; one that matches has its memory of the last sync renewed, so its
// periodic pass reads nothing. Managed policies the objects attach are re-read for their default
// version: a new version sends the objects that attach it through a full pass too.
import type { IamServiceAccount } from '../api/types.ts';
import type { WriteBudget } from '../aws/budget.ts';
import { desiredState, ownedBy, wantedRoleName, type ClusterIdentity, type Desired, type RoleDefaults } from '../policy/desired.ts';
import { diffRole, type ActualRole } from '../policy/diff.ts';
import { parsePolicyDocumentOrEmpty } from '../policy/document.ts';
import { judgePaths } from '../policy/trust-check.ts';
import { associationMatches } from './association.ts';
import type { AssociationStore, RoleStore, RoleSweep } from './ports.ts';

export interface DriftContext {
  identity: ClusterIdentity;
  defaults: RoleDefaults;
  /** The audience of objects that name none. */
  audience: string;
}

export interface DriftFindings {
  /** Keys whose role differs from what the object wants. */
  drifted: string[];
  /** Keys whose role matches, with the generation it matches. */
  inSync: { key: string; generation: number }[];
  /** Managed policy ARN -> the keys of in-sync objects that attach it. */
  policies: Map<string, string[]>;
}

const keyOf = (o: IamServiceAccount) => `${o.metadata.namespace}/${o.metadata.name}`;

type Wanted = { obj: IamServiceAccount; desired: Desired };

/** What an object wants, when a sweep can judge it (not being deleted, a valid spec). */
function wantedRole(obj: IamServiceAccount, ctx: DriftContext): Wanted | undefined {
  if (obj.metadata.deletionTimestamp) return undefined;
  const r = desiredState(obj, ctx.identity, ctx.defaults, ctx.audience);
  return r.ok ? { obj, desired: r.desired } : undefined;
}

/**
 * What each object wants, one at a time: a sweep never holds every object's desired state (at
 * 10,000 objects, tens of MB for the length of a sweep).
 */
export function* wantedRoles(objects: readonly IamServiceAccount[], ctx: DriftContext): Generator<Wanted> {
  for (const obj of objects) {
    const w = wantedRole(obj, ctx);
    if (w) yield w;
  }
}

/** Whether the role IAM holds still gives the object what it wants. Pure. */
export function roleMatches(obj: IamServiceAccount, desired: Desired, actual: ActualRole | undefined, cluster: string): boolean {
  if (!actual) return false;
  if (desired.mode === 'managed') {
    // Ownership tags gone or changed: the object's own pass says what that means (RoleNotOwned, RoleConflict).
    if (!ownedBy(actual.tags, cluster, obj.metadata.namespace, obj.metadata.name)) return false;
    if (diffRole(desired.role, actual).length > 0) return false;
  } else if (actual.arn !== desired.roleArn) {
    return false;
  }
  return judgePaths(parsePolicyDocumentOrEmpty(actual.trustPolicy), desired.roleArn, {
    irsa: desired.paths.irsa ? desired.trust : undefined,
    others: desired.otherClusters,
    pod: desired.podIdentity,
  }).admitted;
}

/**
 * The findings of a sweep, judged role by role as its pages arrive: it holds the objects' role
 * names and a verdict each, never the account's roles nor every object's desired state (an
 * object's is worked out when its role arrives, and only then: working out all 10,000 at once, to
 * index them, was a burst of 25 MB the heap took in one go, the run's peak). A role no object
 * wants is not looked at; an object whose role never arrives has drifted (the role is gone). An
 * object a sweep cannot judge (a spec its desired state refuses) is in neither list: its own
 * passes report it. Pure.
 */
export class DriftTally {
  private readonly ctx: DriftContext;
  private readonly objects: IamServiceAccount[] = [];
  /**
   * Role name -> the index of the object that wants it, or the indexes of several (one
   * attachRoleARN role). A number, not a list of one: 56 bytes less per object held for a sweep.
   */
  private readonly byRole = new Map<string, number | number[]>();
  /** Per object whose role matched: the managed policies it attaches (for the version check). */
  private readonly matched = new Map<number, readonly string[]>();
  /** One copy of each list of managed policies in `matched`: most objects attach the same ones. */
  private readonly policyLists = new Map<string, readonly string[]>();

  constructor(objects: readonly IamServiceAccount[], ctx: DriftContext) {
    this.ctx = ctx;
    for (const obj of objects) {
      if (obj.metadata.deletionTimestamp) continue;
      const i = this.objects.push(obj) - 1;
      const wanted = wantedRoleName(obj, ctx.identity, ctx.defaults);
      // The status's copy when it is the same name: the one just worked out is a new string.
      const name = obj.status?.roleName === wanted ? obj.status.roleName : wanted;
      const indexes = this.byRole.get(name);
      if (indexes === undefined) this.byRole.set(name, i);
      else if (typeof indexes === 'number') this.byRole.set(name, [indexes, i]);
      else indexes.push(i);
    }
  }

  wants(roleName: string): boolean {
    return this.byRole.has(roleName);
  }

  see(role: ActualRole): void {
    const indexes = this.byRole.get(role.name);
    if (indexes === undefined) return;
    for (const i of typeof indexes === 'number' ? [indexes] : indexes) {
      const w = this.objects[i] && wantedRole(this.objects[i], this.ctx);
      if (!w) continue;
      if (roleMatches(w.obj, w.desired, role, this.ctx.identity.clusterName))
        this.matched.set(i, this.policyList(w.desired.role?.managedPolicyArns ?? []));
      else this.matched.delete(i);
    }
  }

  private policyList(arns: readonly string[]): readonly string[] {
    const key = arns.join('\n');
    const found = this.policyLists.get(key);
    if (found) return found;
    this.policyLists.set(key, arns);
    return arns;
  }

  /** In the order of the objects. */
  finish(): DriftFindings {
    const findings: DriftFindings = { drifted: [], inSync: [], policies: new Map() };
    this.objects.forEach((obj, i) => {
      const key = keyOf(obj);
      const policies = this.matched.get(i);
      if (!policies) {
        // Its role differs or never arrived (it is gone): drifted, if the object is one a sweep can
        // judge. Worked out again only for these, few at rest.
        if (wantedRole(obj, this.ctx)) findings.drifted.push(key);
        return;
      }
      findings.inSync.push({ key, generation: obj.metadata.generation ?? 0 });
      for (const arn of policies) {
        const keys = findings.policies.get(arn);
        if (keys) keys.push(key);
        else findings.policies.set(arn, [key]);
      }
    });
    return findings;
  }
}

/**
 * The keys whose EKS Pod Identity association is gone, changed, or no longer this object's, and
 * those whose association matches: the association status names, described (one read each, under
 * the sweep's budget: driftReadsPerSecond x driftPeriodSeconds Pod Identity objects per period).
 * Objects without one are left to their own passes (still making it, or identity IRSA).
 */
export async function associationDrift(
  objects: readonly IamServiceAccount[],
  ctx: DriftContext,
  store: Pick<AssociationStore, 'describe'>,
  take: () => Promise<void>,
): Promise<Pick<DriftFindings, 'drifted' | 'inSync'>> {
  const findings: Pick<DriftFindings, 'drifted' | 'inSync'> = { drifted: [], inSync: [] };
  // Only objects that name an association are worked out (each sweep, every object otherwise).
  const named = objects.filter((o) => o.status?.podIdentityAssociationID !== undefined);
  for (const { obj, desired } of wantedRoles(named, ctx)) {
    const id = obj.status?.podIdentityAssociationID;
    if (!desired.association || id === undefined) continue;
    await take();
    const actual = await store.describe(desired.association.clusterName, id);
    const owned = actual !== undefined && ownedBy(actual.tags, ctx.identity.clusterName, obj.metadata.namespace, obj.metadata.name);
    if (!actual || !owned || !associationMatches(actual, desired.association)) findings.drifted.push(keyOf(obj));
    else findings.inSync.push({ key: keyOf(obj), generation: obj.metadata.generation ?? 0 });
  }
  return findings;
}

export interface DriftSweepDeps {
  sweep: RoleSweep;
  roles: Pick<RoleStore, 'policyDefaultVersion'>;
  /** Shared by every call of a sweep: reads at rest are bounded by it as well as by the period. */
  budget: WriteBudget;
}

export class DriftSweep {
  private readonly deps: DriftSweepDeps;

  /** The budget every read of a sweep shares. */
  get budget(): WriteBudget {
    return this.deps.budget;
  }
  /** The default version of each attached managed policy, as the last sweep saw it. */
  private readonly versions = new Map<string, string | undefined>();

  constructor(deps: DriftSweepDeps) {
    this.deps = deps;
  }

  /** One sweep: the keys to send through a full pass, and those whose role still matches. */
  async run(objects: readonly IamServiceAccount[], ctx: DriftContext, rolePathPrefix: string): Promise<DriftFindings> {
    const tally = new DriftTally(objects, ctx);
    await this.deps.sweep.readEach(
      rolePathPrefix,
      (name) => tally.wants(name),
      (role) => tally.see(role),
    );
    const findings = tally.finish();
    const changed = await this.policiesChanged([...findings.policies.keys()]);
    const moved = new Set(changed.flatMap((arn) => findings.policies.get(arn) ?? []));
    return {
      drifted: [...findings.drifted, ...moved],
      inSync: findings.inSync.filter((s) => !moved.has(s.key)),
      policies: findings.policies,
    };
  }

  /** The ARNs whose default version changed since the last sweep (the first sight of one is no change). */
  private async policiesChanged(arns: readonly string[]): Promise<string[]> {
    const changed: string[] = [];
    for (const arn of arns) {
      await this.deps.budget.take();
      const version = await this.deps.roles.policyDefaultVersion(arn);
      if (this.versions.has(arn) && this.versions.get(arn) !== version) changed.push(arn);
      this.versions.set(arn, version);
    }
    for (const arn of [...this.versions.keys()]) if (!arns.includes(arn)) this.versions.delete(arn);
    return changed;
  }
}
