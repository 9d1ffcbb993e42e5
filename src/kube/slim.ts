// What the informer caches keep of an object. The apiserver sends every object with its
// managedFields (server-side apply bookkeeping) and, when applied with client-side kubectl, the
// whole previous object again in an annotation. The operator reads neither; dropping them before
// an object is cached or handed to a handler took the benchmark's RSS at N=2,000 from 460 to 349 MB.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** A copy of `obj` without metadata.managedFields and the last-applied annotation; other fields are shared. */
export function withoutBookkeeping<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata) return obj;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose
  const { managedFields, annotations, ...metadata }: V1ObjectMeta = obj.metadata;
  const slim: V1ObjectMeta = metadata;
  if (annotations) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose
    const { [LAST_APPLIED_ANNOTATION]: lastApplied, ...rest } = annotations;
    slim.annotations = rest;
  }
  return { ...obj, metadata: slim };
}
