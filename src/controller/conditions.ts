// metav1.Condition semantics (apimachinery's SetStatusCondition), without mutation, and what the
// operator's cache keeps of a condition's message. Pure.
import { hash } from 'node:crypto';
import type { Condition, ConditionType, IamServiceAccount } from '../api/types.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Sets one condition. A new type gets `now`; an existing one keeps its lastTransitionTime unless
 * its status changes. Reason, message and observedGeneration are overwritten.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: ConditionInput,
  now: string,
): { conditions: Condition[]; changed: boolean } {
  const existing = conditions.find((c) => c.type === next.type);
  if (!existing) return { conditions: [...conditions, { ...next, lastTransitionTime: now }], changed: true };
  const updated: Condition = {
    ...existing,
    ...next,
    lastTransitionTime: existing.status === next.status ? existing.lastTransitionTime : now,
  };
  const changed =
    existing.status !== updated.status ||
    existing.reason !== updated.reason ||
    !sameMessage(existing.message, updated.message) ||
    existing.observedGeneration !== updated.observedGeneration;
  return { conditions: conditions.map((c) => (c.type === next.type ? updated : c)), changed };
}

export function removeCondition(conditions: readonly Condition[], type: ConditionType): { conditions: Condition[]; changed: boolean } {
  const kept = conditions.filter((c) => c.type !== type);
  return { conditions: kept, changed: kept.length !== conditions.length };
}

export function findCondition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * What the operator's cache keeps of a condition's message: 12 characters of its SHA-256
 * (72 bits), not the message. A pass writes every condition it sets with its new message, so a
 * cached message is only ever compared with the next one for the same condition, never written
 * back; the messages name the object's role, ServiceAccount and policies, and were 600 bytes per
 * cached object, 6 MB at 10,000 (docs/benchmarks.md). Twelve, not more: V8 keeps a substring of
 * 13 characters or more as a slice that holds the whole 43-character hash alive (96 bytes a
 * message in all, against 32).
 */
export function messageDigest(message: string): string {
  return hash('sha256', message, 'base64url').slice(0, 12);
}

/** Whether `existing` (a message, or the digest the cache keeps of one) says `message`. */
export function sameMessage(existing: string, message: string): boolean {
  return existing === message || existing === messageDigest(message);
}

/** The object as the operator's cache keeps it: each condition's message replaced by its digest. */
export function withMessageDigests(obj: IamServiceAccount): IamServiceAccount {
  const conditions = obj.status?.conditions;
  if (!obj.status || !conditions?.length) return obj;
  return { ...obj, status: { ...obj.status, conditions: conditions.map((c) => ({ ...c, message: messageDigest(c.message) })) } };
}
