// The few Kubernetes calls the operator makes, typed, over the operator's own transport (http.ts).
import type { V1Namespace, V1PodList, V1ReplicaSet, V1ServiceAccount } from '@kubernetes/client-node';
import { statusSchema } from '../api/schema.ts';
import { FIELD_MANAGER, GROUP, PLURAL, VERSION, type IamServiceAccount, type IamServiceAccountStatus } from '../api/types.ts';
import type { PodOwner, PodView } from '../policy/pods.ts';
import { APPLY_PATCH, isKubeStatus, MERGE_PATCH, type KubeHttp } from './http.ts';
import { podView } from './pods.ts';

export type KubeWrite =
  'patchStatus' | 'patchFinalizers' | 'applyServiceAccount' | 'deleteServiceAccount' | 'createEvent' | 'restartWorkload';
export type KubeWriteObserver = (write: KubeWrite, ok: boolean) => void;

/** The pod template annotation `kubectl rollout restart` sets. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface EventInput {
  regarding: IamServiceAccount;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const objectPath = (namespace: string, name: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}/${name}`;
const serviceAccountPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`;
const WORKLOAD_RESOURCES: Partial<Record<string, string>> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

export class KubeApi {
  private readonly http: KubeHttp;
  private readonly observer: KubeWriteObserver | undefined;

  constructor(http: KubeHttp, observer?: KubeWriteObserver) {
    this.http = http;
    this.observer = observer;
  }

  private async write<T>(kind: KubeWrite, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.observer?.(kind, true);
      return out;
    } catch (e) {
      this.observer?.(kind, false);
      throw e;
    }
  }

  /**
   * Replaces the status (fields it no longer has are removed), guarded by the resourceVersion the
   * pass read: a pass that worked from a stale cache gets 409 and is retried with the newer object,
   * instead of removing what a newer pass wrote.
   */
  async patchStatus(namespace: string, name: string, status: IamServiceAccountStatus, resourceVersion: string): Promise<IamServiceAccount> {
    const removed = Object.fromEntries(Object.keys(statusSchema.properties).map((k) => [k, null]));
    const body = { metadata: { resourceVersion }, status: { ...removed, ...status } };
    return this.write('patchStatus', () =>
      this.http.request<IamServiceAccount>('PATCH', `${objectPath(namespace, name)}/status`, { body, contentType: MERGE_PATCH }),
    );
  }

  /** Replaces the finalizer list, guarded by resourceVersion (409 when someone else wrote first). */
  async patchFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<IamServiceAccount> {
    return this.write('patchFinalizers', () =>
      this.http.request<IamServiceAccount>('PATCH', objectPath(namespace, name), {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: MERGE_PATCH,
      }),
    );
  }

  /** The namespace's annotations (per-namespace operator policy); empty when it cannot be read. */
  async getNamespaceAnnotations(name: string): Promise<Record<string, string>> {
    return (await this.http.getIfExists<V1Namespace>(`/api/v1/namespaces/${name}`))?.metadata?.annotations ?? {};
  }

  /** From the API server's watch cache (resourceVersion 0): a cheap read, at most a moment old. */
  async listPods(namespace: string, serviceAccount: string): Promise<PodView[]> {
    const list = await this.http.request<V1PodList>('GET', `/api/v1/namespaces/${namespace}/pods`, {
      query: { fieldSelector: `spec.serviceAccountName=${serviceAccount}`, resourceVersion: '0' },
    });
    return list.items.map(podView).filter((p): p is PodView => p !== undefined);
  }

  async replicaSetOwner(namespace: string, name: string): Promise<PodOwner | undefined> {
    const rs = await this.http.getIfExists<V1ReplicaSet>(`/apis/apps/v1/namespaces/${namespace}/replicasets/${name}`);
    const owner = rs?.metadata?.ownerReferences?.find((o) => o.controller === true);
    return owner && { kind: owner.kind, name: owner.name };
  }

  async restartWorkload(namespace: string, workload: PodOwner, at: string): Promise<void> {
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } };
    const resource = WORKLOAD_RESOURCES[workload.kind];
    if (!resource) throw new Error(`${workload.kind} cannot be restarted through its pod template`);
    await this.write('restartWorkload', () =>
      this.http.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/${resource}/${workload.name}`, { body, contentType: MERGE_PATCH }),
    );
  }

  getServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    return this.http.getIfExists<V1ServiceAccount>(serviceAccountPath(namespace, name));
  }

  /**
   * Server-side apply of exactly the fields the operator owns, as field manager irsa-operator.
   * Fields other managers own (Helm, Argo CD) stay; fields we stop sending are removed.
   */
  async applyServiceAccount(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ): Promise<V1ServiceAccount> {
    const body = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels, annotations } };
    return this.write('applyServiceAccount', () =>
      this.http.request<V1ServiceAccount>('PATCH', serviceAccountPath(namespace, name), {
        query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict', force: true },
        body,
        contentType: APPLY_PATCH,
      }),
    );
  }

  /** Deletes the ServiceAccount with this uid; false when it was already gone or replaced. */
  async deleteServiceAccount(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      await this.write('deleteServiceAccount', () =>
        this.http.request('DELETE', serviceAccountPath(namespace, name), { body: { preconditions: { uid } } }),
      );
      return true;
    } catch (e) {
      if (isKubeStatus(e, 404) || isKubeStatus(e, 409)) return false;
      throw e;
    }
  }

  async createEvent(e: EventInput, now: Date): Promise<void> {
    const md = e.regarding.metadata;
    await this.write('createEvent', () =>
      this.http.request('POST', `/api/v1/namespaces/${md.namespace}/events`, {
        body: {
          metadata: { generateName: `${md.name}.`, namespace: md.namespace },
          involvedObject: {
            apiVersion: e.regarding.apiVersion,
            kind: e.regarding.kind,
            name: md.name,
            namespace: md.namespace,
            ...(md.uid ? { uid: md.uid } : {}),
            ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
          },
          type: e.type,
          reason: e.reason,
          message: e.message.slice(0, 1024),
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: FIELD_MANAGER,
          firstTimestamp: now.toISOString(),
          lastTimestamp: now.toISOString(),
          count: 1,
        },
      }),
    );
  }
}
