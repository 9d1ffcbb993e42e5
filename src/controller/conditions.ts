// metav1.Condition semantics (apimachinery's SetStatusCondition), without mutation. Pure.
import type { Condition, ConditionType } from '../api/types.ts';

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
    existing.message !== updated.message ||
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
