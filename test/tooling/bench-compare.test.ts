import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IamServiceAccount } from '../../src/api/types.ts';
import { loadConfig, roleDefaults } from '../../src/config.ts';
import { STS_AUDIENCE } from '../../src/policy/audience.ts';
import { issuerHostPath, oidcProviderArn } from '../../src/policy/arn.ts';
import { desiredState } from '../../src/policy/desired.ts';
import {
  ackConditionSummary,
  ackRoleSpec,
  ackSynced,
  compareLine,
  controllerIdle,
  floorLine,
  irsaCompareSpec,
  latencies,
  ratio,
  ratioLine,
  ratios,
  sideLine,
  workersStarted,
  type SideResult,
} from '../bench/compare-report.ts';
import { TEST_ACCOUNT, TEST_CLUSTER, TEST_ISSUER } from '../env/cluster.ts';

test('ackSynced: only ACK.ResourceSynced=True counts (a new role first shows ACK.Recoverable, and Ready follows Synced)', () => {
  assert.equal(ackSynced({}), false);
  assert.equal(ackSynced({ status: null }), false);
  assert.equal(ackSynced({ status: { conditions: null } }), false);
  assert.equal(
    ackSynced({
      status: {
        conditions: [
          { type: 'ACK.Recoverable', status: 'True', message: 'role created, requeuing to trigger updates' },
          { type: 'ACK.ResourceSynced', status: 'Unknown' },
        ],
      },
    }),
    false,
  );
  assert.equal(ackSynced({ status: { conditions: [{ type: 'ACK.ResourceSynced', status: 'False' }] } }), false);
  assert.equal(ackSynced({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), false);
  assert.equal(
    ackSynced({
      status: {
        conditions: [
          { type: 'ACK.LateInitialized', status: 'True' },
          { type: 'ACK.ResourceSynced', status: 'True', message: 'Resource synced successfully' },
        ],
      },
    }),
    true,
  );
});

test('ackConditionSummary lists the conditions sorted, to say where unsynced objects are stuck', () => {
  assert.equal(ackConditionSummary({}), 'no conditions');
  assert.equal(
    ackConditionSummary({
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'ACK.Recoverable', status: 'True' },
        ],
      },
    }),
    'ACK.Recoverable=True,Ready=False',
  );
});

test('ratio: a / b, null where it means nothing', () => {
  assert.equal(ratio(3, 20), 0.15);
  assert.equal(ratio(0, 5), 0);
  assert.equal(ratio(5, 0), null);
  assert.equal(ratio(NaN, 5), null);
  assert.equal(ratio(5, Infinity), null);
});

function side(controller: string, over: { p50: number; p99: number; calls: number; rss: number; cpu: number; wall: number }): SideResult {
  return {
    controller,
    objects: 200,
    syncedMs: { p50: over.p50, p90: over.p99, p99: over.p99, max: over.p99 },
    wallSeconds: over.wall,
    iam: { calls: over.calls * 200, callsPerObject: over.calls, writesPerObject: 2, serverErrors: 0, byOperation: {} },
    kubeWritesPerObject: 5,
    atRest: { windowSeconds: 62, calls: 0, writes: 0, kubeWrites: 0, byOperation: {} },
    rssMbStart: 47,
    rssMbMax: over.rss,
    cpuSecondsCreate: over.cpu,
    cpuSecondsAtRest: 0,
  };
}

test('ratios are irsa over ack, and the compare: line has the issue’s fields in its order', () => {
  const ack = side('ack', { p50: 14_000.4, p99: 37_300, calls: 20, rss: 64.2, cpu: 7.7, wall: 37.6 });
  const irsa = side('irsa', { p50: 520.6, p99: 1_220, calls: 3.0333, rss: 119.49, cpu: 5.5, wall: 10.1 });
  const r = ratios(ack, irsa);
  assert.ok(Math.abs((r.syncedP50 ?? 0) - 520.6 / 14_000.4) < 1e-12);
  assert.ok(Math.abs((r.rssMax ?? 0) - 119.49 / 64.2) < 1e-12);
  assert.equal(
    compareLine(200, ack, irsa),
    'compare: n=200 ack_p50_ms=14000 irsa_p50_ms=521 ack_calls_per_object=20.00 irsa_calls_per_object=3.03 ack_rss_mb=64 irsa_rss_mb=119',
  );
  assert.equal(
    ratioLine(r),
    'ratios irsa/ack: synced_p50=0.037 synced_p99=0.033 wall=0.269 calls_per_object=0.152 rss_max=1.861 cpu=0.714',
  );
  assert.equal(ratioLine(ratios(side('ack', { p50: 0, p99: 0, calls: 0, rss: 0, cpu: 0, wall: 0 }), irsa)).includes('n/a'), true);
  assert.equal(
    sideLine(ack),
    'side ack: synced_p50_ms=14000 synced_p99_ms=37300 wall_s=37.6 iam_calls_per_object=20.00 kube_writes_per_object=5.00 calls_at_rest=0/62s rss_mb_max=64 cpu_s=7.7',
  );
  assert.equal(
    floorLine({ nodeMb: 42.6, iamSdkMb: 64.4 }, ack, irsa),
    'floor: node_mb=43 node_iam_sdk_mb=64 ack_rss_mb=64 irsa_rss_mb=119 node_iam_sdk_over_ack=1.00',
  );
});

test('latencies: nearest-rank percentiles of ascending milliseconds', () => {
  const ms = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.deepEqual(latencies(ms), { p50: 100, p90: 180, p99: 198, max: 200 });
  assert.ok(Number.isNaN(latencies([]).p50));
});

// From the ACK iam-controller's /metrics (controller-runtime v0.23, priority queue), trimmed.
const ACK_METRICS_STARTED = `# HELP controller_runtime_active_workers Number of currently used workers per controller
# TYPE controller_runtime_active_workers gauge
controller_runtime_active_workers{controller="field-export.iam.services.k8s.aws/v1alpha1, Kind=Role"} 0
controller_runtime_active_workers{controller="role"} 0
controller_runtime_active_workers{controller="roles"} 3
workqueue_adds_total{controller="role",name="role"} 0
`;

test('controllerIdle: undefined before the controller starts, then idle only with no busy worker and nothing ready at any priority', () => {
  assert.equal(controllerIdle('', 'role'), undefined);
  assert.equal(controllerIdle('controller_runtime_active_workers{controller="policy"} 0\n', 'role'), undefined);
  assert.equal(controllerIdle(ACK_METRICS_STARTED, 'role'), true);
  assert.equal(controllerIdle(ACK_METRICS_STARTED.replace('{controller="role"} 0', '{controller="role"} 1'), 'role'), false);
  const queued = `${ACK_METRICS_STARTED}workqueue_depth{controller="role",name="role",priority="-100"} 0\nworkqueue_depth{controller="role",name="role",priority="0"} 2\n`;
  assert.equal(controllerIdle(queued, 'role'), false);
  assert.equal(controllerIdle(queued.replace('priority="0"} 2', 'priority="0"} 0'), 'role'), true);
  // Another controller's queue is not this one's.
  assert.equal(controllerIdle(`${ACK_METRICS_STARTED}workqueue_depth{controller="user",name="user",priority="0"} 4\n`, 'role'), true);
});

test('the ACK Role is the role the operator writes for the roleOnly IamServiceAccount of the other side', () => {
  const config = loadConfig({ IRSA_CLUSTER_NAME: TEST_CLUSTER, IRSA_OIDC_ISSUER: TEST_ISSUER, AWS_REGION: 'us-east-1' });
  const hostPath = issuerHostPath(TEST_ISSUER);
  const identity = {
    clusterName: TEST_CLUSTER,
    partition: 'aws' as const,
    account: TEST_ACCOUNT,
    issuerHostPath: hostPath,
    oidcProviderArn: oidcProviderArn('aws', TEST_ACCOUNT, hostPath),
  };
  const obj: IamServiceAccount = {
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { namespace: 'bench-3', name: 'app-13' },
    spec: irsaCompareSpec(),
  };
  const r = desiredState(obj, identity, roleDefaults(config), STS_AUDIENCE);
  assert.ok(r.ok && r.desired.mode === 'managed');
  assert.equal(r.desired.serviceAccount, undefined, 'roleOnly: no ServiceAccount on the operator side either');
  const role = r.desired.role;
  const ack = ackRoleSpec('bench-3', 'app-13');
  assert.equal(ack.name, role.name);
  assert.equal(ack.description, role.description);
  assert.equal(ack.maxSessionDuration, role.maxSessionDuration);
  assert.deepEqual(ack.policies, role.managedPolicyArns);
  assert.deepEqual(JSON.parse(ack.assumeRolePolicyDocument), role.trustPolicy);
});

test('workersStarted: the controller-runtime log line for that controller, not another one, not a stray text', () => {
  const log = [
    '{"level":"info","ts":"2026-11-27T08:29:01.483Z","msg":"Starting EventSource","controller":"role","controllerKind":"Role"}',
    '{"level":"info","ts":"2026-11-27T08:29:02.589Z","msg":"Starting workers","controller":"field-export.iam.services.k8s.aws/v1alpha1, Kind=Role","worker count":1}',
    'Starting workers "controller":"role" (not JSON)',
    '',
  ].join('\n');
  assert.equal(workersStarted(log, 'role'), false);
  const started = `${log}{"level":"info","ts":"2026-11-27T08:29:02.589Z","msg":"Starting workers","controller":"role","controllerGroup":"iam.services.k8s.aws","controllerKind":"Role","worker count":1}\n`;
  assert.equal(workersStarted(started, 'role'), true);
  assert.equal(workersStarted(started, 'user'), false);
});
