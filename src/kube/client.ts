// The few Kubernetes calls the operator makes, typed, on top of @kubernetes/client-node.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import { statusSchema } from '../api/schema.ts';
import { FIELD_MANAGER, GROUP, PLURAL, VERSION, type IamServiceAccount, type IamServiceAccountStatus } from '../api/types.ts';
import type { PodOwner, PodView } from '../policy/pods.ts';
import { podView } from './pods.ts';

export type KubeWrite =
  'patchStatus' | 'patchFinalizers' | 'applyServiceAccount' | 'deleteServiceAccount' | 'createEvent' | 'restartWorkload';
export type KubeWriteObserver = (write: KubeWrite, ok: boolean) => void;

/** The pod template annotation `kubectl rollout restart` sets. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export function isKubeStatus(e: unknown, code: number): boolean {
  return e instanceof ApiException && e.code === code;
}

export interface EventInput {
  regarding: IamServiceAccount;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class KubeApi {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly observer: KubeWriteObserver | undefined;

  constructor(kc: KubeConfig, observer?: KubeWriteObserver) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
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

  /** Merge-patches only `status`. */
  /** The whole status: a field it leaves out is removed (null in the merge patch), not left as it was. */
  /**
   * Replaces the status (fields it no longer has are removed), guarded by the resourceVersion the
   * pass read: a pass that worked from a stale cache gets 409 and is retried with the newer object,
   * instead of removing what a newer pass wrote.
   */
  async patchStatus(namespace: string, name: string, status: IamServiceAccountStatus, resourceVersion: string): Promise<IamServiceAccount> {
    const removed = Object.fromEntries(Object.keys(statusSchema.properties).map((k) => [k, null]));
    const body = { metadata: { resourceVersion }, status: { ...removed, ...status } };
    return this.write(
      'patchStatus',
      async () =>
        (await this.custom.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as IamServiceAccount,
    );
  }

  /** Replaces the finalizer list, guarded by resourceVersion (409 when someone else wrote first). */
  async patchFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<IamServiceAccount> {
    return this.write(
      'patchFinalizers',
      async () =>
        (await this.custom.patchNamespacedCustomObject(
          { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { metadata: { finalizers, resourceVersion } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as IamServiceAccount,
    );
  }

  /** The namespace's annotations (per-namespace operator policy); empty when it cannot be read. */
  async getNamespaceAnnotations(name: string): Promise<Record<string, string>> {
    try {
      return (await this.core.readNamespace({ name })).metadata?.annotations ?? {};
    } catch (e) {
      if (isKubeStatus(e, 404)) return {};
      throw e;
    }
  }

  /** From the API server's watch cache (resourceVersion 0): a cheap read, at most a moment old. */
  async listPods(namespace: string, serviceAccount: string): Promise<PodView[]> {
    const list = await this.core.listNamespacedPod({
      namespace,
      fieldSelector: `spec.serviceAccountName=${serviceAccount}`,
      resourceVersion: '0',
    });
    return list.items.map(podView).filter((p): p is PodView => p !== undefined);
  }

  async replicaSetOwner(namespace: string, name: string): Promise<PodOwner | undefined> {
    try {
      const rs = await this.apps.readNamespacedReplicaSet({ namespace, name });
      const owner = rs.metadata?.ownerReferences?.find((o) => o.controller === true);
      return owner && { kind: owner.kind, name: owner.name };
    } catch (e) {
      if (isKubeStatus(e, 404)) return undefined;
      throw e;
    }
  }

  async restartWorkload(namespace: string, workload: PodOwner, at: string): Promise<void> {
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } };
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const { name } = workload;
    await this.write('restartWorkload', async () => {
      if (workload.kind === 'Deployment') await this.apps.patchNamespacedDeployment({ namespace, name, body }, opts);
      else if (workload.kind === 'StatefulSet') await this.apps.patchNamespacedStatefulSet({ namespace, name, body }, opts);
      else if (workload.kind === 'DaemonSet') await this.apps.patchNamespacedDaemonSet({ namespace, name, body }, opts);
      else throw new Error(`${workload.kind} cannot be restarted through its pod template`);
    });
  }

  async getServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    try {
      return await this.core.readNamespacedServiceAccount({ namespace, name });
    } catch (e) {
      if (isKubeStatus(e, 404)) return undefined;
      throw e;
    }
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
      this.core.patchNamespacedServiceAccount(
        { namespace, name, body, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict', force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
  }

  /** Deletes the ServiceAccount with this uid; false when it was already gone or replaced. */
  async deleteServiceAccount(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      await this.write('deleteServiceAccount', () =>
        this.core.deleteNamespacedServiceAccount({ namespace, name, body: { preconditions: { uid } } }),
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
      this.core.createNamespacedEvent({
        namespace: md.namespace,
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
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      }),
    );
  }
}
