// Pods under the real pod identity webhook (test/env/webhook.ts): what it injected into a pod (read
// with the operator's own src/kube/pods.ts), and a wait for it to inject anything at all. No
// scheduler or kubelet runs, so a pod stays Pending and these read only its (mutated) spec.
import type { V1Pod } from '@kubernetes/client-node';
import { podInjection } from '../../src/kube/pods.ts';
import { kubectl, waitFor } from './helpers.ts';

/** What the webhook injected into one container of a pod; undefined fields were not injected. */
export type PodInjection = ReturnType<typeof podInjection>;

/** A minimal pod of `serviceAccount`, owned by `owner` if given; the image is never pulled (no kubelet). */
export function podManifest(ns: string, name: string, serviceAccount: string, owner?: { kind: string; name: string; uid: string }): object {
  const ownerReferences = owner && [{ apiVersion: 'apps/v1', ...owner, controller: true }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ownerReferences },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'busybox' }] },
  };
}

/** What the webhook injected into `container` (default: the first) of a pod object. */
export function injectionOf(pod: V1Pod, container?: string): PodInjection {
  const injected = podInjection(pod, container);
  if (injected.roleArn === undefined && !pod.spec?.containers.some((c) => container === undefined || c.name === container)) {
    throw new Error(`pod ${pod.metadata?.name ?? ''} has no container ${container ?? '(none)'}`);
  }
  return injected;
}

/** What the webhook injected into pod `ns/pod`, as the apiserver stored it. */
export async function storedInjection(ns: string, pod: string, container?: string): Promise<PodInjection> {
  return injectionOf(JSON.parse(await kubectl(['get', 'pod', '-n', ns, pod, '-o', 'json'])) as V1Pod, container);
}

/** Creates a pod of `serviceAccount` (admission, the webhook included, runs as for any pod). */
export async function createPod(
  ns: string,
  name: string,
  serviceAccount: string,
  owner?: { kind: string; name: string; uid: string },
): Promise<V1Pod> {
  const out = await kubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify(podManifest(ns, name, serviceAccount, owner)));
  return JSON.parse(out) as V1Pod;
}

/** A server-side dry-run pod of `serviceAccount`: mutated by admission, stored nowhere. */
export async function dryRunPod(ns: string, serviceAccount: string): Promise<V1Pod> {
  const out = await kubectl(
    ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
    JSON.stringify(podManifest(ns, 'dry-run', serviceAccount)),
  );
  return JSON.parse(out) as V1Pod;
}

/**
 * Waits until a new pod of `serviceAccount` would get the role `roleArn` (undefined: no role): the
 * webhook admits pods unmutated while its ServiceAccount cache has not yet seen the annotation (and
 * says so only in its log), so ask with dry-run pods until one is as expected, rather than assert
 * on the first pod.
 */
export async function waitForInjection(
  ns: string,
  serviceAccount: string,
  roleArn: string | undefined,
  timeoutMs = 30_000,
): Promise<PodInjection> {
  let last: PodInjection | undefined;
  try {
    await waitFor(
      `a pod of ${ns}/${serviceAccount} to get ${roleArn ?? 'no role'}`,
      async () => {
        last = injectionOf(await dryRunPod(ns, serviceAccount));
        return last.roleArn === roleArn;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last injection: ${JSON.stringify(last)}`);
  }
  return last as PodInjection;
}
