// Pods under the real pod identity webhook (test/env/webhook.ts): what it injected into a pod, and
// a wait for it to inject anything at all. No scheduler or kubelet runs, so a pod stays Pending
// and these read only its (mutated) spec.
import { posix } from 'node:path';
import { kubectl, waitFor } from './helpers.ts';

interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  name: string;
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface TokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}
export interface PodJson {
  metadata: { name: string; namespace: string };
  spec: {
    serviceAccountName?: string;
    containers: Container[];
    volumes?: { name: string; projected?: { sources: { serviceAccountToken?: TokenProjection }[] } }[];
  };
  status?: { phase?: string };
}

/** What the webhook put into one container of a pod; undefined fields were not injected. */
export interface PodInjection {
  roleArn?: string;
  tokenFile?: string;
  /** The projected ServiceAccount token behind tokenFile (the volume mounted at its folder). */
  audience?: string;
  expirationSeconds?: number;
  stsRegionalEndpoints?: string;
  region?: string;
}

/** A minimal pod of `serviceAccount`; the image is never pulled (no kubelet). */
export function podManifest(ns: string, name: string, serviceAccount: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'busybox' }] },
  };
}

/** The token projection whose file is `tokenFile` in `container`, found through its mount. */
function tokenProjection(pod: PodJson, container: Container, tokenFile: string): TokenProjection | undefined {
  const mount = container.volumeMounts?.find((m) => m.mountPath === posix.dirname(tokenFile));
  const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
  return volume?.projected?.sources
    .map((s) => s.serviceAccountToken)
    .find((t): t is TokenProjection => t?.path === posix.basename(tokenFile));
}

/** What the webhook injected into `container` (default: the first) of a pod object. */
export function injectionOf(pod: PodJson, container?: string): PodInjection {
  const c = container === undefined ? pod.spec.containers[0] : pod.spec.containers.find((x) => x.name === container);
  if (!c) throw new Error(`pod ${pod.metadata.name} has no container ${container ?? '(none)'}`);
  const env = (name: string) => c.env?.find((e) => e.name === name)?.value;
  const tokenFile = env('AWS_WEB_IDENTITY_TOKEN_FILE');
  const token = tokenFile === undefined ? undefined : tokenProjection(pod, c, tokenFile);
  return {
    roleArn: env('AWS_ROLE_ARN'),
    tokenFile,
    audience: token?.audience,
    expirationSeconds: token?.expirationSeconds,
    stsRegionalEndpoints: env('AWS_STS_REGIONAL_ENDPOINTS'),
    region: env('AWS_REGION'),
  };
}

/** What the webhook injected into pod `ns/pod`, as the apiserver stored it. */
export async function podInjection(ns: string, pod: string, container?: string): Promise<PodInjection> {
  return injectionOf(JSON.parse(await kubectl(['get', 'pod', '-n', ns, pod, '-o', 'json'])) as PodJson, container);
}

/** Creates a pod of `serviceAccount` (admission, the webhook included, runs as for any pod). */
export async function createPod(ns: string, name: string, serviceAccount: string): Promise<PodJson> {
  const out = await kubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify(podManifest(ns, name, serviceAccount)));
  return JSON.parse(out) as PodJson;
}

/** A server-side dry-run pod of `serviceAccount`: mutated by admission, stored nowhere. */
export async function dryRunPod(ns: string, serviceAccount: string): Promise<PodJson> {
  const out = await kubectl(
    ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
    JSON.stringify(podManifest(ns, 'dry-run', serviceAccount)),
  );
  return JSON.parse(out) as PodJson;
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
