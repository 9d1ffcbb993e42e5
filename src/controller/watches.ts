// What enqueues what, declared as kubebuilder's SetupWithManager does: an IamServiceAccount
// enqueues itself; a ServiceAccount carrying the operator's label enqueues the object its owner
// annotation names (an edit or delete behind the operator's back is repaired at once).
import type { KubernetesListObject, V1ServiceAccount } from '@kubernetes/client-node';
import { GROUP, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION, PLURAL, VERSION, type IamServiceAccount } from '../api/types.ts';
import type { InformerFactory, WatchSource } from '../kube/informer-factory.ts';
import { withMessageDigests } from './conditions.ts';
import type { ObjectCache } from './ports.ts';

const SA_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

const objectsPath = (ns: string) => (ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`);

export const IAM_SERVICE_ACCOUNTS: WatchSource<IamServiceAccount> = {
  resource: PLURAL,
  path: objectsPath,
  // The cache keeps a digest of each condition's message: passes only compare them.
  keep: withMessageDigests,
  list:
    (http, ns) =>
    ({ limit, continueToken }) =>
      http.request<KubernetesListObject<IamServiceAccount>>('GET', objectsPath(ns), { query: { limit, continue: continueToken } }),
};

const serviceAccountsPath = (ns: string) => (ns ? `/api/v1/namespaces/${ns}/serviceaccounts` : '/api/v1/serviceaccounts');

/** Only the ServiceAccounts the operator labelled: memory stays flat however many others a cluster has. */
export const OWNED_SERVICE_ACCOUNTS: WatchSource<V1ServiceAccount> = {
  resource: 'serviceaccounts',
  path: serviceAccountsPath,
  labelSelector: SA_SELECTOR,
  list:
    (http, ns) =>
    ({ limit, continueToken }) =>
      http.request<KubernetesListObject<V1ServiceAccount>>('GET', serviceAccountsPath(ns), {
        query: { labelSelector: SA_SELECTOR, limit, continue: continueToken },
      }),
};

export interface WatchedCache extends ObjectCache {
  allObjects(): readonly IamServiceAccount[];
}

/** Registers the controller's watches on the factory; returns the caches the reconciler reads. */
export function setupWatches(factory: InformerFactory, enqueue: (key: string) => void): WatchedCache {
  const self = (o: IamServiceAccount) => enqueue(`${o.metadata.namespace}/${o.metadata.name}`);
  const owner = (sa: V1ServiceAccount) => {
    const name = sa.metadata?.annotations?.[OWNER_ANNOTATION];
    if (name && sa.metadata?.namespace) enqueue(`${sa.metadata.namespace}/${name}`);
  };
  const objects = factory.watch(IAM_SERVICE_ACCOUNTS, { onChange: self, onDelete: self });
  const serviceAccounts = factory.watch(OWNED_SERVICE_ACCOUNTS, { onChange: owner, onDelete: owner });
  return {
    object: (ns, name) => objects.get(ns, name),
    objectsInNamespace: (ns) => objects.list(ns),
    allObjects: () => objects.list(),
    serviceAccount: (ns, name) => serviceAccounts.get(ns, name),
    serviceAccounts: (ns) => serviceAccounts.each(ns),
  };
}
