// npm run test:faults: the operator under faults (apiserver outage, IAM throttling and errors,
// SIGKILLs, leader loss, drift in AWS), each scenario ending "converged" (every IamServiceAccount
// Ready=True at its generation, none left being deleted) with the invariants checked against moto
// directly and the cluster. Ends with one line:
//   faults: injected=<n> scenarios=<n> converged=<n> orphaned_roles=<n> lost_annotations=<n> duplicate_roles=<n>
// and a table of per-scenario times on stderr.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  AttachRolePolicyCommand,
  DeleteRoleCommand,
  GetRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { IamServiceAccount } from '../../src/api/types.ts';
import type { Operator } from '../../src/operator.ts';
import { clearFaults, fetchFaults, setFaults, type FaultRule } from '../env/aws-proxy.ts';
import { REPO, TEST_ACCOUNT, TEST_CLUSTER, TEST_ISSUER, TEST_REGION } from '../env/cluster.ts';
import { freePort, startProcess, type Started } from '../env/processes.ts';
import { env, iam, newNamespace, waitFor } from '../e2e/helpers.ts';
import {
  checkInvariants,
  createObject,
  createTargetProvider,
  deleteObject,
  getObject,
  invariantsHold,
  listObjects,
  operatorKubeconfigVia,
  randomInt,
  replaceSpec,
  resetFaultsAws,
  S3_READ,
  sleep,
  SQS_READ,
  startOperatorWith,
  TARGET_ACCOUNT,
  TARGET_ROLE,
  variantSpec,
  VARIANTS,
  waitConverged,
  type Invariants,
} from './helpers.ts';
import { TcpProxy } from '../env/tcp-proxy.ts';

const LEASE_TIMINGS = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
const CONVERGE_TIMEOUT_MS = 120_000;
const KILLS = 50;

interface ScenarioResult {
  name: string;
  injected: number;
  /** From the end of the fault window (or the last change) to converged. */
  convergeMs: number;
  /** The whole scenario, faults included. */
  totalMs: number;
  converged: boolean;
}

const results: ScenarioResult[] = [];
const totals = { orphanedRoles: 0, lostAnnotations: 0, duplicateRoles: 0 };

async function proxyInjected(): Promise<number> {
  return (await fetchFaults(env().awsEndpoint)).injected;
}

/**
 * Runs one scenario: `body` injects its faults and returns when they are over (with the count of
 * faults it injected itself, beside those the AWS proxy counts); then converged and the invariants.
 * `untilInvariants`: drift is invisible in status, so there converged also waits for the invariants.
 */
async function scenario(
  name: string,
  namespaces: string[],
  body: () => Promise<number>,
  untilInvariants = false,
  accounts: readonly string[] = [TEST_ACCOUNT],
): Promise<void> {
  const result: ScenarioResult = { name, injected: 0, convergeMs: NaN, totalMs: NaN, converged: false };
  results.push(result);
  const t0 = performance.now();
  const proxyBefore = await proxyInjected();
  let own = 0;
  let tFaultsOver = t0;
  let inv: Invariants | undefined;
  try {
    own = await body();
    tFaultsOver = performance.now();
    if (untilInvariants) {
      await waitFor(
        'the invariants to hold again',
        async () => invariantsHold((inv = await checkInvariants(namespaces, accounts))),
        CONVERGE_TIMEOUT_MS,
        200,
      ).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}; last: ${JSON.stringify(inv)}`);
      });
    }
    await waitConverged(namespaces, CONVERGE_TIMEOUT_MS);
    result.convergeMs = performance.now() - tFaultsOver;
    inv = await checkInvariants(namespaces, accounts);
    totals.orphanedRoles += inv.orphanedRoles.length;
    totals.lostAnnotations += inv.lostAnnotations.length;
    totals.duplicateRoles += inv.duplicateRoles.length;
    assert.deepEqual(inv, { orphanedRoles: [], lostAnnotations: [], duplicateRoles: [], mismatches: [] }, 'invariants after convergence');
    assert.ok((await listObjects(namespaces)).length > 0, 'the scenario left objects to check');
    result.converged = true;
  } finally {
    await clearFaults(env().awsEndpoint);
    result.injected = own + (await proxyInjected()) - proxyBefore;
    result.totalMs = performance.now() - t0;
  }
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('faults', () => {
  before(async () => {
    await clearFaults(env().awsEndpoint);
  });

  after(() => {
    const injected = results.reduce((n, r) => n + r.injected, 0);
    const converged = results.filter((r) => r.converged).length;
    const fmt = (ms: number) => (Number.isFinite(ms) ? String(Math.round(ms)) : '-');
    const rows = [
      ['scenario', 'injected', 'converge_ms', 'total_ms', 'converged'],
      ...results.map((r) => [r.name, String(r.injected), fmt(r.convergeMs), fmt(r.totalMs), r.converged ? 'yes' : 'NO']),
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    process.stderr.write(
      `${rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n')}\n`,
    );
    console.log(
      `faults: injected=${injected} scenarios=${results.length} converged=${converged} orphaned_roles=${totals.orphanedRoles} lost_annotations=${totals.lostAnnotations} duplicate_roles=${totals.duplicateRoles}`,
    );
    assert.ok(injected >= 200, `injected ${injected} faults, want >= 200`);
    assert.equal(converged, results.length, 'every scenario converged');
    assert.deepEqual(totals, { orphanedRoles: 0, lostAnnotations: 0, duplicateRoles: 0 });
  });

  it('(i) carries on after the apiserver is unreachable for 10 s while objects are created and updated', async () => {
    await resetFaultsAws();
    const ns = await newNamespace('faults-apiserver');
    const proxy = new TcpProxy(Number(new URL(env().apiserverUrl).port));
    await proxy.start();
    const op = await startOperatorWith(
      operatorKubeconfigVia(proxy.port, (json, port) => TcpProxy.kubeconfigThrough(json, port)),
      { watchNamespaces: [ns] },
    );
    try {
      await scenario('apiserver down 10 s', [ns], async () => {
        const first = names('early', 8);
        await Promise.all(first.map((n, i) => createObject(ns, n, variantSpec(n, i))));
        // Cut the operator off while it is in the middle of that work.
        await waitFor(
          'the operator to start on the first objects',
          async () => (await listObjects([ns])).some((o) => o.metadata.finalizers?.length),
          30_000,
          20,
        );
        const outage = proxy.downFor(10_000);
        const late = names('late', 8);
        await Promise.all(late.map((n, i) => createObject(ns, n, variantSpec(n, i + 1))));
        await Promise.all(first.map((n, i) => replaceSpec(ns, n, variantSpec(n, i + 1))));
        await outage;
        assert.ok(proxy.resets > 0, 'the operator did lose its connections');
        return 1;
      });
    } finally {
      await op.stop();
      await proxy.stop();
    }
  });

  it('(ii) converges under IAM throttling (30 %), 500s, ConcurrentModification, drops and delays while 20 objects are created, updated and deleted', async () => {
    await resetFaultsAws();
    const ns = await newNamespace('faults-iam');
    const op = await startOperatorWith(env().operatorKubeconfig, { watchNamespaces: [ns] });
    // Renamed ServiceAccounts whose role cannot be updated yet: the old one must still be released.
    const blockTrust: FaultRule = { service: 'iam', operation: 'UpdateAssumeRolePolicy', probability: 1, kind: 'concurrent-modification' };
    const rules: FaultRule[] = [
      { service: 'iam', probability: 0.3, kind: 'throttle' },
      { service: 'iam', probability: 0.08, kind: '500' },
      { service: 'iam', probability: 0.08, kind: 'concurrent-modification' },
      { service: 'iam', probability: 0.03, kind: 'drop' },
      { service: 'iam', probability: 0.03, kind: 'drop', phase: 'response' },
      { service: 'iam', probability: 0.05, kind: 'delay', delayMs: 300 },
    ];
    try {
      await scenario('IAM throttling and errors', [ns], async () => {
        await setFaults(env().awsEndpoint, rules);
        const all = names('app', 20);
        await Promise.all(all.map((n, i) => createObject(ns, n, variantSpec(n, i))));
        const readyCount = async (generation: number) =>
          (await listObjects([ns])).filter((o) =>
            o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === generation),
          ).length;
        const app1Ready = async () =>
          (await getObject(ns, 'app-1'))?.status?.conditions?.some(
            (c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === 1,
          ) === true;
        await waitFor(
          'some objects (app-1 among them) Ready under faults',
          async () => (await readyCount(1)) >= 5 && (await app1Ready()),
          60_000,
          100,
        );
        await setFaults(env().awsEndpoint, [blockTrust, ...rules]);
        await Promise.all(all.map((n, i) => replaceSpec(ns, n, variantSpec(n, i + 1))));
        // app-1 moves to ServiceAccount app-1-sa, which needs a new trust policy first.
        await waitFor(
          'a rename to wait for its trust policy',
          async () => {
            const o = await getObject(ns, 'app-1');
            return o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True' && c.observedGeneration === 2) === true;
          },
          60_000,
          100,
        );
        await setFaults(env().awsEndpoint, rules);
        await waitFor('some updates Ready under faults', async () => (await readyCount(2)) >= 5, 60_000, 100);
        await Promise.all(all.filter((_, i) => i % 5 < 2).map((n) => deleteObject(ns, n)));
        // The faults stay on until converged: returning here starts the clock, not the recovery.
        return 0;
      });
    } finally {
      await op.stop();
    }
  });

  it(`(iii) converges after the operator process is SIGKILLed ${KILLS} times during creates, updates and deletes`, async () => {
    await resetFaultsAws();
    const ns = await newNamespace('faults-kill');
    const logFile = join(env().dir, 'faults-operator.log');
    const spawn = async (): Promise<Started> => {
      const port = await freePort();
      return startProcess(process.execPath, [join(REPO, 'src/main.ts')], {
        logFile,
        env: {
          AWS_ACCESS_KEY_ID: 'faults',
          AWS_SECRET_ACCESS_KEY: 'faults',
          AWS_REGION: TEST_REGION,
          KUBECONFIG: env().operatorKubeconfig,
          IRSA_CLUSTER_NAME: TEST_CLUSTER,
          IRSA_OIDC_ISSUER: TEST_ISSUER,
          IRSA_AWS_ENDPOINT: env().awsEndpoint,
          IRSA_HTTP_PORT: String(port),
          IRSA_LOG_LEVEL: 'warn',
          IRSA_WATCH_NAMESPACES: ns,
          IRSA_IAM_WRITES_PER_SECOND: '0',
        },
      });
    };
    const kill = async (p: Started) => {
      const exited = new Promise<void>((resolve) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) resolve();
        else p.child.once('exit', () => resolve());
      });
      if (p.child.pid !== undefined) {
        try {
          process.kill(p.child.pid, 'SIGKILL');
        } catch {
          // exited on its own (it must not: checked below)
        }
      }
      await exited;
    };

    const pool = names('churn', 12);
    let driving = true;
    let ops = 0;
    // Creates, updates and deletes at random while the kills go on.
    const driver = (async () => {
      for (const [i, n] of pool.entries()) await createObject(ns, n, variantSpec(n, i));
      while (driving) {
        const n = pool[randomInt(0, pool.length - 1)] ?? 'churn-0';
        try {
          const o = await getObject(ns, n);
          if (!o) {
            await createObject(ns, n, variantSpec(n, randomInt(0, VARIANTS - 1)));
            ops++;
          } else if (o.metadata.deletionTimestamp === undefined) {
            if (Math.random() < 0.65) await replaceSpec(ns, n, variantSpec(n, randomInt(0, 2 * VARIANTS)));
            else await deleteObject(ns, n);
            ops++;
          }
        } catch {
          // A create racing a finalizing delete (409) and the like: the next round tries again.
        }
        await sleep(randomInt(20, 150));
      }
    })();

    const procs: { final?: Started } = {};
    try {
      await scenario(`SIGKILL x${KILLS}`, [ns], async () => {
        let kills = 0;
        let unexpectedExits = 0;
        {
          // One kill aimed between CreateRole and the first status write (PutRolePolicy held), then
          // the object deleted: the next process must still find and delete that role.
          await setFaults(env().awsEndpoint, [
            { service: 'iam', operation: 'PutRolePolicy', probability: 1, kind: 'delay', delayMs: 5000 },
          ]);
          const proc = await spawn();
          await createObject(ns, 'aimed', variantSpec('aimed', 1));
          await waitFor(
            'the aimed role to exist',
            async () => (await iam().send(new GetRoleCommand({ RoleName: `${TEST_CLUSTER}.${ns}.aimed` }))).Role !== undefined,
            30_000,
            20,
          );
          await kill(proc);
          kills++;
          await clearFaults(env().awsEndpoint);
          assert.equal((await getObject(ns, 'aimed'))?.status?.roleName, undefined, 'the kill came before the status write');
          await deleteObject(ns, 'aimed');
        }
        for (let k = 1; k < KILLS; k++) {
          const proc = await spawn();
          // The random moment is the fault: before, during or after start-up (about 1.1 s here).
          await sleep(randomInt(300, 2600));
          if (proc.child.exitCode !== null) unexpectedExits++;
          await kill(proc);
          kills++;
        }
        driving = false;
        await driver;
        assert.equal(unexpectedExits, 0, 'the operator never exited by itself');
        assert.ok(ops > 50, `the driver changed objects ${ops} times`);
        // The clock starts at the last restart: start-up is part of the recovery.
        procs.final = await spawn();
        return kills;
      });
    } finally {
      driving = false;
      await driver.catch(() => undefined);
      await procs.final?.stop();
    }
  });

  it('(iv) hands over to the other replica when the leader stops mid-way', async () => {
    await resetFaultsAws();
    const ns = await newNamespace('faults-leader');
    const start = () =>
      startOperatorWith(
        env().operatorKubeconfig,
        { leaderElection: true, watchNamespaces: [ns], concurrency: 2 },
        { leaseTimings: LEASE_TIMINGS },
      );
    const a = await start();
    const b = await start();
    const running = new Set<Operator>([a, b]);
    const isLeader = async (op: Operator) => (await op.metrics.leader.get()).values[0]?.value === 1;
    try {
      await scenario('leader stopped mid-way', [ns], async () => {
        await Promise.race([a.leading, b.leading]);
        const aLeads = await isLeader(a);
        assert.notEqual(aLeads, await isLeader(b), 'exactly one leader');
        const [leader, follower] = aLeads ? [a, b] : [b, a];
        // A slow IAM keeps work in flight when the leader goes.
        await setFaults(env().awsEndpoint, [{ service: 'iam', probability: 0.5, kind: 'delay', delayMs: 150 }]);
        const all = names('app', 16);
        await Promise.all(all.map((n, i) => createObject(ns, n, variantSpec(n, i))));
        await waitFor(
          'the leader to be part-way through',
          async () =>
            (await listObjects([ns])).filter((o) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >=
            4,
          60_000,
          50,
        );
        const stopped = leader.stop();
        running.delete(leader);
        await Promise.all(all.slice(0, 4).map((n, i) => replaceSpec(ns, n, variantSpec(n, i + 1))));
        await stopped;
        await follower.leading;
        assert.equal(await isLeader(follower), true, 'the follower leads');
        return 1;
      });
    } finally {
      for (const op of running) await op.stop();
    }
  });

  it('(v) repairs every kind of drift in AWS and the cluster within a few drift periods', async () => {
    await resetFaultsAws();
    const ns = await newNamespace('faults-drift');
    const op = await startOperatorWith(env().operatorKubeconfig, { watchNamespaces: [ns], driftPeriodSeconds: 2 });
    const kinds = ['trust', 'detach', 'extra', 'inline', 'role', 'annotation'] as const;
    const spec = (n: string) => ({ ...variantSpec(n, 1), attachPolicyARNs: [S3_READ] });
    try {
      for (const k of kinds) await createObject(ns, `drift-${k}`, spec(`drift-${k}`));
      await waitConverged([ns], 30_000);
      const roleOf = (k: string) => `${TEST_CLUSTER}.${ns}.drift-${k}`;
      await scenario(
        'AWS drift (6 kinds)',
        [ns],
        async () => {
          await iam().send(
            new UpdateAssumeRolePolicyCommand({
              RoleName: roleOf('trust'),
              PolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
              }),
            }),
          );
          await iam().send(new DetachRolePolicyCommand({ RoleName: roleOf('detach'), PolicyArn: S3_READ }));
          await iam().send(new AttachRolePolicyCommand({ RoleName: roleOf('extra'), PolicyArn: SQS_READ }));
          await iam().send(new DeleteRolePolicyCommand({ RoleName: roleOf('inline'), PolicyName: 'irsa-attach-policy' }));
          await iam().send(new DetachRolePolicyCommand({ RoleName: roleOf('role'), PolicyArn: S3_READ }));
          await iam().send(new DeleteRolePolicyCommand({ RoleName: roleOf('role'), PolicyName: 'irsa-attach-policy' }));
          await iam().send(new DeleteRoleCommand({ RoleName: roleOf('role') }));
          const kc = new KubeConfig();
          kc.loadFromFile(env().adminKubeconfig);
          await kc.makeApiClient(CoreV1Api).patchNamespacedServiceAccount(
            {
              namespace: ns,
              name: 'drift-annotation',
              body: [{ op: 'remove', path: '/metadata/annotations/eks.amazonaws.com~1role-arn' }],
            },
            setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
          );
          return kinds.length;
        },
        true,
      );
      assert.ok((await getObject(ns, 'drift-role'))?.status?.roleARN, 'the deleted role is back');
    } finally {
      await op.stop();
    }
  });

  it("(vi) a target account's credentials refused mid-run: its objects wait, the own account's converge meanwhile, then all do", async () => {
    await resetFaultsAws();
    await createTargetProvider();
    const own = await newNamespace('faults-own');
    const cross = await newNamespace('faults-cross');
    const op = await startOperatorWith(env().operatorKubeconfig, {
      watchNamespaces: [own, cross],
      accounts: { [TARGET_ACCOUNT]: { roleArn: TARGET_ROLE, allowedNamespaces: [cross] } },
    });
    const inTarget = (n: string, v: number) => ({ ...variantSpec(n, v), account: TARGET_ACCOUNT });
    const refused: FaultRule = { account: TARGET_ACCOUNT, probability: 1, kind: 'access-denied' };
    try {
      await scenario(
        'target account refused',
        [own, cross],
        async () => {
          const first = names('app', 6);
          await Promise.all(first.map((n, i) => createObject(own, n, variantSpec(n, i))));
          await Promise.all(first.map((n, i) => createObject(cross, n, inTarget(n, i))));
          await waitConverged([own, cross], CONVERGE_TIMEOUT_MS);
          // The target account refuses the operator from now on: AssumeRole and its cached credentials alike.
          await setFaults(env().awsEndpoint, [refused]);
          const late = names('late', 4);
          await Promise.all(first.map((n, i) => replaceSpec(own, n, variantSpec(n, i + 1))));
          await Promise.all(first.map((n, i) => replaceSpec(cross, n, inTarget(n, i + 1))));
          await Promise.all(late.map((n, i) => createObject(own, n, variantSpec(n, i))));
          await Promise.all(late.map((n, i) => createObject(cross, n, inTarget(n, i))));
          await deleteObject(cross, 'app-5');
          // The own account is not held up by the other's refusal.
          await waitConverged([own], CONVERGE_TIMEOUT_MS);
          // Its objects say why they wait: every one at its generation, Ready=False, refused.
          const refusedReason = (o: IamServiceAccount) => {
            const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
            return (
              ready?.status === 'False' &&
              ready.observedGeneration === o.metadata.generation &&
              /AccessDenied|AccountCredentialsRefused/.test(ready.reason)
            );
          };
          await waitFor(
            'every object of the target account to wait, refused',
            async () => (await listObjects([cross])).filter((o) => !o.metadata.deletionTimestamp).every(refusedReason),
            CONVERGE_TIMEOUT_MS,
            100,
          );
          assert.ok(
            (await getObject(cross, 'app-5'))?.metadata.deletionTimestamp,
            'the deleted object keeps its finalizer while its role cannot be deleted',
          );
          await clearFaults(env().awsEndpoint);
          return 0;
        },
        false,
        [TEST_ACCOUNT, TARGET_ACCOUNT],
      );
    } finally {
      await op.stop();
    }
  });
});
