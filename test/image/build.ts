// Builds the Dockerfile as it is, from a clean context: the repository's files as git lists them
// (tracked, plus new files not ignored), without node_modules, dist or caches, so the build cannot
// lean on anything this checkout built. No layer cache: every step runs, so a pinned package that
// left the archive or a COPY path that moved fails here. What the build leaves in podman's store
// goes again with Built.remove.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../env/cluster.ts';
import { removeOnExit } from '../env/processes.ts';
import { podman, podmanOk, ULIMITS } from './podman.ts';
import type { Base } from './base.ts';

/** A directory with the repository's files as git lists them; removed when this process ends. */
function cleanContext(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-image-context-'));
  const remove = removeOnExit(dir);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    // A file deleted in the work tree but still in the index is not part of the checkout.
    if (!existsSync(join(REPO, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(REPO, f), join(dir, f), { verbatimSymlinks: true });
  }
  return { dir, remove };
}

/**
 * Volumes that give npm, inside the build, the certificate authorities this machine adds to Node's
 * (NODE_EXTRA_CA_CERTS), for a network that re-signs TLS (a company proxy, this sandbox). npm reads
 * its global npmrc from <node's prefix>/etc/npmrc, /usr/local/etc/npmrc in the node image. Only RUN
 * steps see build volumes: nothing of them is in any layer, and the Dockerfile stays as it is.
 */
function extraCaVolumes(dir: string): { volumes: string[]; note?: string } {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca || !existsSync(ca)) return { volumes: [] };
  writeFileSync(join(dir, 'ca.pem'), readFileSync(ca));
  writeFileSync(join(dir, 'npmrc'), 'cafile=/usr/local/etc/irsa-build-ca.pem\n');
  return {
    volumes: [
      `--volume=${join(dir, 'npmrc')}:/usr/local/etc/npmrc:ro`,
      `--volume=${join(dir, 'ca.pem')}:/usr/local/etc/irsa-build-ca.pem:ro`,
    ],
    note: `npm in the build trusts this machine's NODE_EXTRA_CA_CERTS (${ca}), through a build volume, not in the image`,
  };
}

export interface Built {
  id: string;
  tag: string;
  seconds: number;
  log: string;
  /** Removes the image and the intermediate images this build left (its stages' layers). */
  remove: () => Promise<void>;
}

async function imageIds(): Promise<Set<string>> {
  return new Set((await podmanOk(['images', '--all', '--quiet', '--no-trunc'])).split('\n').filter(Boolean));
}

export async function buildImage(tag: string, base: Base, log: (line: string) => void): Promise<Built> {
  const t0 = Date.now();
  const ctx = cleanContext();
  const side = mkdtempSync(join(tmpdir(), 'irsa-image-build-'));
  const removeSide = removeOnExit(side);
  try {
    const ca = extraCaVolumes(side);
    if (ca.note) log(ca.note);
    const iidfile = join(side, 'iid');
    const before = await imageIds();
    const leftovers = async (keep: string) =>
      [...(await imageIds())].filter((i) => !before.has(i) && !keep.endsWith(i.replace(/^sha256:/, '')));
    const out = await podmanOk(
      [
        'build',
        // Docker's image format, as `docker build` makes: OCI's has no SHELL, and the Dockerfile's
        // jemalloc stage sets one (pipefail).
        '--format=docker',
        base === 'real' ? '--pull=always' : '--pull=never',
        // Every step runs; one layer per step that changes files, as docker build makes them.
        '--no-cache',
        '--layers=true',
        '--force-rm',
        // RUN steps fetch packages (npm ci, apt-get): the host's network, as docker build's default bridge would give.
        '--network=host',
        ...ULIMITS,
        ...ca.volumes,
        `--iidfile=${iidfile}`,
        `--tag=${tag}`,
        `--file=${join(ctx.dir, 'Dockerfile')}`,
        ctx.dir,
      ],
      1_200_000,
    ).catch(async (e: unknown) => {
      // A failed build leaves its stages' layers: remove them, then report.
      for (const i of await leftovers('')) await podman(['rmi', '--force', i]);
      throw e;
    });
    const id = readFileSync(iidfile, 'utf8').trim();
    const made = await leftovers(id);
    const remove = async () => {
      // The image first: its untagged parents go with it; then the other stages' leftovers.
      await podman(['rmi', '--force', id]);
      for (const i of made) await podman(['rmi', i]);
    };
    return { id, tag, seconds: (Date.now() - t0) / 1000, log: out, remove };
  } finally {
    ctx.remove();
    removeSide();
  }
}
