// Stands in for undici in the operator's bundle. @kubernetes/client-node's KubeConfig imports it
// for the fetch layer of its generated API clients; the operator does not use them (its requests
// go through src/kube/http.ts), and undici was 720 KB of the bundle and its largest module graph
// at start. Anything that still reached for it would fail loudly here, not silently.
const unused = (): never => {
  throw new Error('undici is not in the operator bundle: Kubernetes requests go through src/kube/http.ts');
};

export function Agent(): never {
  return unused();
}

export function ProxyAgent(): never {
  return unused();
}

export const fetch = unused;
