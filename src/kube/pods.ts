// Pods as the operator looks at them: what the pod identity webhook injected, and who controls
// them. Only these few fields are kept, so a list of pods costs no more memory than its names.
import { posix } from 'node:path';
import type { V1Container, V1Pod, V1ServiceAccountTokenProjection } from '@kubernetes/client-node';
import type { Injection, PodView } from '../policy/pods.ts';

/** The projected token whose file is `tokenFile` in `container`, found through its mount. */
function tokenProjection(pod: V1Pod, container: V1Container, tokenFile: string): V1ServiceAccountTokenProjection | undefined {
  const mount = container.volumeMounts?.find((m) => m.mountPath === posix.dirname(tokenFile));
  const volume = pod.spec?.volumes?.find((v) => v.name === mount?.name);
  return volume?.projected?.sources
    ?.map((s) => s.serviceAccountToken)
    .find((t): t is V1ServiceAccountTokenProjection => t?.path === posix.basename(tokenFile));
}

/** What the webhook injected into `container` (default: the first) of a pod. */
export function podInjection(pod: V1Pod, container?: string): Injection & { tokenFile?: string | undefined; region?: string | undefined } {
  const containers = pod.spec?.containers ?? [];
  const c = container === undefined ? containers[0] : containers.find((x) => x.name === container);
  if (!c) return {};
  const env = (name: string) => c.env?.find((e) => e.name === name)?.value;
  const tokenFile = env('AWS_WEB_IDENTITY_TOKEN_FILE');
  const token = tokenFile === undefined ? undefined : tokenProjection(pod, c, tokenFile);
  return {
    roleArn: env('AWS_ROLE_ARN'),
    tokenFile,
    audience: token?.audience,
    expirationSeconds: token?.expirationSeconds,
    regional: env('AWS_STS_REGIONAL_ENDPOINTS'),
    region: env('AWS_REGION'),
  };
}

/** A running (or starting) pod's view; undefined for a pod that is done or going away. */
export function podView(pod: V1Pod): PodView | undefined {
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  const { roleArn, audience, expirationSeconds, regional } = podInjection(pod);
  return {
    name: pod.metadata?.name ?? '',
    owner: controller && { kind: controller.kind, name: controller.name },
    injection: { roleArn, audience, expirationSeconds, regional },
  };
}
