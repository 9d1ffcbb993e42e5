// npm run test:image: builds the Dockerfile as it is (real base images where a registry answers,
// stand-ins otherwise), runs the image the way config/manager's Deployment runs it (read-only root,
// user 65532, no capabilities, no privilege escalation, its env and memory limit) against the test
// environment's apiserver and moto, and checks that it becomes ready, makes an example Ready,
// serves /metrics, writes nothing to its root filesystem and stops on SIGTERM within the grace
// period, exit code 0 and Lease released. Ends with
//   image: built=1 base=<real|stand-in> size_mb=N ready=1 example_ready=1 read_only=1 user=65532 sigterm_exit=0 lease_released=1
// and a line with the image's layers and its RSS at rest. Skipped where podman is missing or the
// user is not root (the stand-ins need debootstrap); under CI=true a missing podman fails instead.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOidcProvider, REPO, runKubectl, startEnv, type RunningEnv } from '../env/cluster.ts';
import { freePort, waitFor } from '../env/processes.ts';
import { imageStage } from '../bench/production.ts';
import { chooseBase, importStandIns, standInBanner, type Base } from './base.ts';
import { buildImage } from './build.ts';
import { operatorDeployment } from './deployment.ts';
import { makePod, type Pod } from './pod.ts';
import {
  containerState,
  inspectImage,
  podman,
  podmanInstalled,
  podmanOk,
  removeContainer,
  removeContainerOnExit,
  RUN_LABEL,
  ULIMITS,
  type ImageInfo,
} from './podman.ts';
import { median, procCommand, procStatus, sampleRss, writeProbe } from './probes.ts';

const say = (line: string) => process.stderr.write(`[image] ${line}\n`);
const DEPLOYMENT = operatorDeployment(join(REPO, 'config/manager/manager.yaml'));
const STAGE = imageStage(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const TAG = `localhost/irsa-operator:test-${process.pid}`;
const CONTAINER = `irsa-image-test-${process.pid}`;
// The FROM of the Dockerfile's last stage: the image's base.
const RUNTIME_BASE =
  readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => /^FROM\s/i.test(l))
    .at(-1)
    ?.split(/\s+/)[1] ?? '';
// The pod's name in a cluster; the operator's Lease identity starts with it.
const HOSTNAME = 'irsa-operator-image-test';
const NAMESPACE = 'image-test';
// How long RSS is sampled at rest (the figure is the median over this window).
const REST_WINDOW_MS = 5000;

function skipReason(): string | false {
  const isRoot = process.getuid?.() === 0;
  if (podmanInstalled() && isRoot) return false;
  const why = podmanInstalled()
    ? 'not root (the stand-in base images need debootstrap and chroot)'
    : 'podman is not installed (apt-get install podman buildah runc debootstrap)';
  if (process.env.CI === 'true') throw new Error(`test:image cannot run under CI: ${why}`);
  return why;
}

const results = {
  built: 0,
  base: '-' as Base | '-',
  sizeMb: 0,
  layers: 0,
  baseLayers: 0,
  ready: 0,
  exampleReady: 0,
  readOnly: 0,
  user: -1,
  sigtermExit: -1,
  leaseReleased: 0,
  rssMb: 0,
  buildSeconds: 0,
  stopSeconds: 0,
};

describe('the image (Dockerfile), run as config/manager runs it', { skip: skipReason() }, () => {
  let env: RunningEnv | undefined;
  let pod: Pod | undefined;
  let image: ImageInfo | undefined;
  let removeImage: (() => Promise<void>) | undefined;
  let pid = 0;
  let holder = '';

  const base = (path: string) => `http://127.0.0.1:${String(pod?.httpPort)}${path}`;
  const get = async (path: string) => {
    const res = await fetch(base(path), { signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  };
  const lease = async (): Promise<{ holderIdentity?: string }> => {
    assert.ok(env && pod);
    const r = await runKubectl(env, ['get', 'lease', 'irsa-operator', '-n', pod.leaseNamespace, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { spec?: { holderIdentity?: string } }).spec ?? {};
  };
  const logs = async () => {
    const r = await podman(['logs', CONTAINER]);
    return r.stdout + r.stderr;
  };

  before(async () => {
    const choice = await chooseBase();
    results.base = choice.base;
    if (choice.base === 'stand-in') {
      const names = await importStandIns(say);
      say(`\n${standInBanner(names, choice.why)}`);
    } else {
      say(`base images: the real ones, pulled (${choice.why})`);
    }
    say('building the Dockerfile from a clean context (no layer cache)');
    const built = await buildImage(TAG, choice.base, say);
    results.buildSeconds = built.seconds;
    results.built = 1;
    removeImage = built.remove;
    image = await inspectImage(built.id);
    results.baseLayers = (await inspectImage(RUNTIME_BASE)).layers;
    say(
      `built ${TAG} in ${built.seconds.toFixed(0)} s: ${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.layers} layers (${results.baseLayers} of them the base image's)`,
    );

    env = await startEnv(say);
    await createOidcProvider(env.motoUrl);
    const ns = await runKubectl(env, ['create', 'namespace', NAMESPACE]);
    assert.equal(ns.code, 0, ns.stderr);
    pod = makePod(env, DEPLOYMENT, join(REPO, 'config/manager/config.yaml'), 'irsa-system', await freePort());
  });

  after(async () => {
    if (process.env.IRSA_TEST_LOG) say(`the operator's log:\n${await logs()}`);
    await removeContainer(CONTAINER);
    pod?.remove();
    await removeImage?.();
    await env?.stop();
    console.log(
      `image: built=${results.built} base=${results.base} size_mb=${Math.round(results.sizeMb)} ready=${results.ready} example_ready=${results.exampleReady} read_only=${results.readOnly} user=${results.user} sigterm_exit=${results.sigtermExit} lease_released=${results.leaseReleased}`,
    );
    console.log(
      `image details: layers=${results.layers} base_layers=${results.baseLayers} rss_mb_at_rest_1_object=${results.rssMb.toFixed(1)} build_s=${results.buildSeconds.toFixed(0)} sigterm_to_exit_s=${results.stopSeconds.toFixed(1)}`,
    );
  });

  it("is the Dockerfile's last stage: distroless node as ENTRYPOINT, its CMD, user 65532, /app", () => {
    assert.ok(image);
    results.sizeMb = image.sizeBytes / 1e6;
    results.layers = image.layers;
    assert.deepEqual(image.entrypoint, ['/nodejs/bin/node']);
    assert.deepEqual(image.cmd, STAGE.cmd);
    assert.equal(image.user, '65532:65532');
    assert.equal(image.workingDir, '/app');
    for (const [k, v] of Object.entries(STAGE.env)) assert.ok(image.env.includes(`${k}=${v}`), `the image has ENV ${k}=${v}`);
  });

  it("starts under the Deployment's security context and turns /readyz ready", async () => {
    assert.ok(image && pod);
    removeContainerOnExit(CONTAINER);
    await podmanOk([
      'run',
      '--detach',
      `--name=${CONTAINER}`,
      `--hostname=${HOSTNAME}`,
      `--label=${RUN_LABEL}`,
      `--label=dev.irsa.test-pid=${process.pid}`,
      // .ci/run looks for containers of its own run by this label.
      `--label=dev.irsa.ci-run=${process.env.IRSA_CI_RUN ?? 'none'}`,
      // The apiserver and moto listen on the host's loopback.
      '--network=host',
      ...ULIMITS,
      `--stop-timeout=${DEPLOYMENT.gracePeriodSeconds}`,
      ...DEPLOYMENT.runFlags,
      ...pod.runFlags,
      image.id,
    ]);
    let exited = false;
    await waitFor(
      "the container's /readyz",
      async () => {
        if (!(await containerState(CONTAINER)).running) return (exited = true);
        return (await get('/readyz')).status === 200;
      },
      90_000,
      100,
    );
    assert.equal(exited, false, `the container exited:\n${(await logs()).slice(-4000)}`);
    results.ready = 1;
    pid = (await containerState(CONTAINER)).pid;
  });

  it("runs node with the image's CMD and its preloaded jemalloc, as 65532:65532, no capabilities, no new privileges, seccomp on", () => {
    const cmd = procCommand(pid);
    assert.equal(cmd.exe, '/nodejs/bin/node');
    assert.deepEqual(cmd.argv, ['/nodejs/bin/node', ...STAGE.cmd]);
    assert.match(cmd.maps, /\/usr\/local\/lib\/libjemalloc\.so\.2/, 'jemalloc is mapped (LD_PRELOAD took)');
    const s = procStatus(pid);
    assert.deepEqual(s.uids, [DEPLOYMENT.uid, DEPLOYMENT.uid, DEPLOYMENT.uid, DEPLOYMENT.uid]);
    assert.deepEqual(s.gids, [DEPLOYMENT.gid, DEPLOYMENT.gid, DEPLOYMENT.gid, DEPLOYMENT.gid]);
    assert.equal(s.capEff, 0n);
    assert.equal(s.capPrm, 0n);
    assert.equal(s.capBnd, 0n);
    assert.equal(s.noNewPrivs, 1);
    assert.equal(s.seccomp, 2, "a seccomp filter (podman's default profile, the RuntimeDefault)");
    results.user = s.uids[1] ?? -1;
  });

  it('cannot write to its root filesystem: every write attempt fails with EROFS', async () => {
    const probe = await writeProbe(CONTAINER, `${DEPLOYMENT.uid}:${DEPLOYMENT.gid}`, '/nodejs/bin/node', [
      '/',
      '/app',
      '/app/dist',
      '/etc',
      '/tmp',
      '/var/tmp',
      '/home/nonroot',
      '/run',
      '/usr/local/lib',
    ]);
    assert.match(probe.rootMount, /^ro(,|$)/, `the root mount is read-only (${probe.rootMount})`);
    // /tmp and /home/nonroot are writable by 65532's permissions: only the read-only mount stops it.
    for (const dir of ['/', '/app', '/tmp', '/home/nonroot']) assert.ok(dir in probe.attempts, `${dir} exists in the image`);
    for (const [dir, outcome] of Object.entries(probe.attempts)) assert.equal(outcome, 'EROFS', `writing in ${dir}`);
    results.readOnly = 1;
  });

  it('makes an example Ready and serves /metrics', async () => {
    assert.ok(env);
    const applied = await runKubectl(env, ['apply', '-n', NAMESPACE, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await runKubectl(env, ['wait', '-n', NAMESPACE, '--for=condition=Ready', '--timeout=60s', 'iamsa/s3-reader']);
    assert.equal(ready.code, 0, `${ready.stderr}\n${(await logs()).slice(-4000)}`);
    results.exampleReady = 1;
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^irsa_objects\{ready="True"\} 1$/m);
    assert.match(metrics.text, /^irsa_leader 1$/m);
  });

  it('holds the Lease and rests: RSS with one object', async () => {
    holder = (await lease()).holderIdentity ?? '';
    assert.ok(holder.startsWith(`${HOSTNAME}-`), `the Lease is held by this container (holder: ${holder})`);
    await waitFor('an empty work queue', async () => /^irsa_workqueue_depth 0$/m.test((await get('/metrics')).text), 30_000, 200);
    const samples = await sampleRss(pid, REST_WINDOW_MS);
    results.rssMb = median(samples);
    say(
      `RSS at rest with one object: ${results.rssMb.toFixed(1)} MB (median of ${samples.length} samples over ${REST_WINDOW_MS / 1000} s; high-water mark ${(procStatus(pid).vmHwmKb / 1024).toFixed(1)} MB)`,
    );
    assert.ok(results.rssMb > 0 && results.rssMb < DEPLOYMENT.memoryLimitBytes / 2 ** 20);
  });

  it('stops on SIGTERM within the grace period, exit code 0, Lease released', async () => {
    const t0 = Date.now();
    await podmanOk(['kill', '--signal=TERM', CONTAINER]);
    let stopped = false;
    try {
      await waitFor(
        'the container to exit after SIGTERM',
        async () => (stopped = !(await containerState(CONTAINER)).running),
        DEPLOYMENT.gracePeriodSeconds * 1000,
        50,
      );
    } finally {
      // As the kubelet does at the end of the grace period.
      if (!stopped) await podman(['kill', '--signal=KILL', CONTAINER]);
    }
    results.stopSeconds = (Date.now() - t0) / 1000;
    const state = await containerState(CONTAINER);
    results.sigtermExit = state.exitCode;
    assert.equal(state.oomKilled, false);
    assert.equal(state.exitCode, 0, (await logs()).slice(-4000));
    const after = (await lease()).holderIdentity ?? '';
    assert.equal(after, '', `the Lease was released (held by ${holder} before, ${after} now)`);
    results.leaseReleased = 1;
  });

  it('wrote nowhere: no write error in its log, and its container layer is empty', async () => {
    const out = await logs();
    assert.doesNotMatch(out, /EROFS|read-only file system/i);
    assert.match(out, /released the lease/);
    // `podman diff` lists what changed in the container's layer against the image, mount points
    // podman itself made for the volumes aside.
    const diff = (await podmanOk(['diff', '--format=json', CONTAINER])).trim();
    const changes = diff ? (JSON.parse(diff) as Record<string, string[] | undefined>) : {};
    const made = [...(changes.changed ?? []), ...(changes.added ?? []), ...(changes.deleted ?? [])];
    assert.deepEqual(
      made.filter((p) => !isMountPoint(p)),
      [],
      'changes in the container layer',
    );
  });
});

/** Paths podman creates to mount the pod's volumes on (and their parents). */
function isMountPoint(path: string): boolean {
  const mounts = [DEPLOYMENT.configMountPath, '/var/run/secrets/kubernetes.io/serviceaccount', '/run/secrets/kubernetes.io/serviceaccount'];
  return mounts.some((m) => m === path || m.startsWith(`${path}/`));
}
