// The Dockerfile's base images: the real ones where a container registry answers, faithful
// stand-ins built from Debian's archive and the npm registry (standins.sh) where none does.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../env/cluster.ts';

export type Base = 'real' | 'stand-in';

/** The registries the Dockerfile's FROM lines pull from: Docker Hub (node) and gcr.io (distroless). */
const REGISTRIES = ['https://registry-1.docker.io/v2/', 'https://gcr.io/v2/'];

/**
 * Whether `url` is a container registry's API root: it answers 200 or 401 with the registry API's
 * headers. Anything else (no DNS, a refused or timed-out connection, a proxy's own error page)
 * counts as unreachable. A short timeout: on a machine with no registry this is the common case.
 */
async function isRegistry(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    const api =
      res.headers.has('docker-distribution-api-version') || (res.headers.get('www-authenticate') ?? '').toLowerCase().startsWith('bearer');
    return (res.status === 200 || res.status === 401) && api;
  } catch {
    return false;
  }
}

/**
 * Which base images to build on. IRSA_IMAGE_BASE=real or stand-in forces it; otherwise real when
 * every registry answers within 5 s. The build then pulls the real images (--pull=always).
 */
export async function chooseBase(): Promise<{ base: Base; why: string }> {
  const forced = process.env.IRSA_IMAGE_BASE;
  if (forced === 'real' || forced === 'stand-in') return { base: forced, why: `IRSA_IMAGE_BASE=${forced}` };
  if (forced) throw new Error(`IRSA_IMAGE_BASE is ${forced}: use real or stand-in`);
  const reachable = await Promise.all(REGISTRIES.map((u) => isRegistry(u, 5000)));
  const missing = REGISTRIES.filter((_, i) => !reachable[i]);
  if (missing.length === 0) return { base: 'real', why: 'the registries answered' };
  return { base: 'stand-in', why: `no container registry answered (${missing.join(', ')})` };
}

/** Builds (or takes from the cache) and imports the stand-ins; returns their names. */
export function importStandIns(log: (line: string) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [join(REPO, 'test/image/standins.sh')], { maxBuffer: 16 << 20, timeout: 1_200_000 }, (err, stdout) => {
      if (err) reject(new Error(`test/image/standins.sh failed: ${err.message}`));
      else resolve(stdout.split('\n').filter(Boolean));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) log(line);
    });
  });
}

/** What to print when stand-ins are used: it must not be missed in a CI log. */
export function standInBanner(names: string[], why: string): string {
  const bar = '!'.repeat(100);
  return [
    bar,
    `!! STAND-IN BASE IMAGES: ${why}.`,
    '!! The image is built on stand-ins made here from Debian bookworm and the npm registry, under the real names:',
    ...names.map((n) => `!!   ${n}`),
    "!! They follow the real images' layout (test/image/standins.sh) but are not them: size and layers are the stand-ins'.",
    bar,
  ].join('\n');
}
