// From the outcome of one reconcile to the object's status: kstatus-compatible conditions
// (Ready, RoleSynced, ServiceAccountSynced, AssociationSynced, TrustVerified, Reconciling,
// Stalled). Pure.
import type { Reason } from '../api/reasons.ts';
import type { Condition, ConditionType, IamServiceAccountStatus } from '../api/types.ts';
import type { Desired } from '../policy/desired.ts';
import { removeCondition, setCondition } from './conditions.ts';

/** How one part (the role, the ServiceAccount) ended. */
export type PartOutcome =
  | { state: 'synced'; reason: Reason; message: string }
  | { state: 'progressing'; reason: Reason; message: string }
  | { state: 'stalled'; reason: Reason; message: string };

export interface Outcome {
  role: PartOutcome;
  /** undefined in roleOnly mode: no ServiceAccount condition at all. */
  serviceAccount: PartOutcome | undefined;
  /** The EKS Pod Identity association; undefined when the object uses none (no condition). */
  association?: PartOutcome | undefined;
  /** Why the role's trust admits a token of the ServiceAccount, when the role part got that far. */
  trust?: string | undefined;
  fields: Omit<IamServiceAccountStatus, 'conditions' | 'observedGeneration'>;
}

/**
 * The status fields of a pass that computed `desired`. status.serviceAccountName names the
 * ServiceAccount that carries the annotations: until a renamed one does, it keeps the old name,
 * so that the next pass (or the finalizer) still releases the old one.
 */
export function statusFields(
  desired: Desired,
  oidcProviderArn: string,
  previousServiceAccount: string | undefined,
  serviceAccountSynced: boolean,
): Outcome['fields'] {
  const keepPrevious = desired.serviceAccount !== undefined && !serviceAccountSynced && previousServiceAccount !== undefined;
  return {
    roleARN: desired.roleArn,
    roleName: desired.roleName,
    // The provider only while the trust admits IRSA tokens (not with identity PodIdentity).
    oidcProviderARN: desired.paths.irsa ? oidcProviderArn : undefined,
    serviceAccountName: keepPrevious ? previousServiceAccount : desired.serviceAccount?.name,
    attachedPolicyARNs: desired.role?.managedPolicyArns,
  };
}

const SEVERITY = { synced: 0, progressing: 1, stalled: 2 } as const;

function partCondition(type: ConditionType, p: PartOutcome, generation: number) {
  const status = p.state === 'synced' ? 'True' : p.state === 'stalled' ? 'False' : 'Unknown';
  return { type, status, reason: p.reason, message: p.message, observedGeneration: generation } as const;
}

export function buildStatus(
  prev: IamServiceAccountStatus | undefined,
  outcome: Outcome,
  generation: number,
  now: string,
): { status: IamServiceAccountStatus; changed: boolean } {
  let conditions: Condition[] = prev?.conditions ?? [];
  let changed = false;
  const apply = (r: { conditions: Condition[]; changed: boolean }) => {
    conditions = r.conditions;
    changed ||= r.changed;
  };
  const worst = worstPart(outcome);
  apply(setCondition(conditions, partCondition('RoleSynced', outcome.role, generation), now));
  if (outcome.serviceAccount) {
    apply(setCondition(conditions, partCondition('ServiceAccountSynced', outcome.serviceAccount, generation), now));
  } else {
    apply(removeCondition(conditions, 'ServiceAccountSynced'));
  }
  if (outcome.association) {
    apply(setCondition(conditions, partCondition('AssociationSynced', outcome.association, generation), now));
  } else {
    apply(removeCondition(conditions, 'AssociationSynced'));
  }
  apply(setCondition(conditions, { ...trustVerified(outcome), type: 'TrustVerified', observedGeneration: generation }, now));
  const ready = readyOf(outcome);
  apply(
    setCondition(
      conditions,
      { type: 'Ready', status: ready.ok ? 'True' : 'False', reason: ready.reason, message: ready.message, observedGeneration: generation },
      now,
    ),
  );
  // kstatus: Reconciling while work goes on, Stalled while a person must act; absent otherwise.
  for (const [type, state] of [
    ['Reconciling', 'progressing'],
    ['Stalled', 'stalled'],
  ] as const) {
    const condition = { type, status: 'True', reason: worst.reason, message: worst.message, observedGeneration: generation } as const;
    apply(worst.state === state ? setCondition(conditions, condition, now) : removeCondition(conditions, type));
  }

  // A field the outcome leaves undefined is dropped (roleOnly has no serviceAccountName, say).
  const merged = { ...prev, ...outcome.fields, observedGeneration: generation, conditions };
  const status = Object.fromEntries(
    Object.entries(merged as Record<string, unknown>).filter(([, v]) => v !== undefined),
  ) as IamServiceAccountStatus;
  changed ||= JSON.stringify(stripConditions(prev)) !== JSON.stringify(stripConditions(status));
  return { status, changed };
}

function worstPart(o: Outcome): PartOutcome {
  // The association before the ServiceAccount, which may only be waiting for it.
  const parts = [o.role, ...(o.association ? [o.association] : []), ...(o.serviceAccount ? [o.serviceAccount] : [])];
  return parts.reduce((a, b) => (SEVERITY[b.state] > SEVERITY[a.state] ? b : a));
}

/** Reasons of a role part that say the trust refuses the ServiceAccount's tokens. */
const TRUST_REFUSALS: ReadonlySet<Reason> = new Set(['TrustPolicyMismatch', 'AudienceNotAllowedByProvider', 'OIDCProviderNotFound']);

/**
 * TrustVerified: True when the role part judged the trust IAM holds (and the provider accepts the
 * audience, checked before the role part runs), False when either refuses, else Unknown.
 */
export function trustVerified(o: Outcome): { status: 'True' | 'False' | 'Unknown'; reason: Reason; message: string } {
  if (o.role.state === 'synced' && o.trust !== undefined) {
    return { status: 'True', reason: 'TrustAdmitsServiceAccount', message: `${o.trust}, and the provider accepts the audience` };
  }
  if (TRUST_REFUSALS.has(o.role.reason)) return { status: 'False', reason: o.role.reason, message: o.role.message };
  return { status: 'Unknown', reason: 'TrustNotChecked', message: `not judged yet: ${o.role.message}` };
}

/**
 * The Ready condition an outcome gives: True when every part is synced and the trust is verified,
 * else the worst part's reason.
 */
export function readyOf(o: Outcome): { ok: boolean; reason: Reason; message: string } {
  const worst = worstPart(o);
  if (worst.state !== 'synced') return { ok: false, reason: worst.reason, message: worst.message };
  const trust = trustVerified(o);
  if (trust.status !== 'True') return { ok: false, reason: trust.reason, message: trust.message };
  const sa = o.fields.serviceAccountName;
  return {
    ok: true,
    reason: 'Synced',
    message: sa ? `ServiceAccount ${sa} can assume ${o.fields.roleARN ?? 'the role'}` : `role ${o.fields.roleARN ?? ''} is in sync`,
  };
}

function stripConditions(s: IamServiceAccountStatus | undefined): unknown {
  if (!s) return {};
  const { conditions: _conditions, ...rest } = s;
  return Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}
