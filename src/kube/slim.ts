// What the informer caches keep of an object. The apiserver sends every object with its
// managedFields (server-side apply bookkeeping) and, when applied with client-side kubectl, the
// whole previous object again in an annotation. Dropping them before an object is cached or handed
// to a handler took the benchmark's RSS at N=2,000 from 460 to 349 MB. The one entry the operator
// reads is kept, reduced to the label and annotation keys the operator itself applied (a label or
// annotation removed from a spec must be removed from the ServiceAccount, and only the operator's own).
import type { KubernetesObject, V1ManagedFieldsEntry, V1ObjectMeta } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/types.ts';
import { reducedFields } from './applied.ts';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A copy of `obj` without the last-applied annotation and with no managedFields but the
 * operator's own server-side apply entry (manager, operation, fieldsV1); other fields are shared.
 */
export function withoutBookkeeping<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata) return obj;
  const { managedFields, annotations, ...metadata }: V1ObjectMeta = obj.metadata;
  const slim: V1ObjectMeta = metadata;
  const ours = (managedFields ?? []).find(isOperatorsApply);
  if (ours) slim.managedFields = [{ manager: ours.manager, operation: ours.operation, fieldsV1: reducedFields(ours.fieldsV1) }];
  if (annotations) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose
    const { [LAST_APPLIED_ANNOTATION]: lastApplied, ...rest } = annotations;
    slim.annotations = rest;
  }
  return { ...obj, metadata: slim };
}

function isOperatorsApply(m: V1ManagedFieldsEntry): boolean {
  return m.manager === FIELD_MANAGER && m.operation === 'Apply';
}
