import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeOwners,
  expectedInjection,
  injectionDiffers,
  planRestarts,
  roleAnnotationsDiffer,
  type PodView,
} from '../../../src/policy/pods.ts';

const ROLE = 'arn:aws:iam::123456789012:role/app';
const ANNOTATIONS = {
  'eks.amazonaws.com/role-arn': ROLE,
  'eks.amazonaws.com/audience': 'sts.amazonaws.com',
  'eks.amazonaws.com/token-expiration': '3600',
  'eks.amazonaws.com/sts-regional-endpoints': 'true',
};
const EXPECTED = { roleArn: ROLE, audience: 'sts.amazonaws.com', expirationSeconds: 3600, regional: 'regional' };

describe('expectedInjection', () => {
  it('is what the webhook injects for these annotations', () => assert.deepEqual(expectedInjection(ANNOTATIONS), EXPECTED));
  it("defaults: a day-long token, no regional STS (the webhook's defaults)", () => {
    assert.deepEqual(expectedInjection({ 'eks.amazonaws.com/role-arn': ROLE, 'eks.amazonaws.com/sts-regional-endpoints': 'false' }), {
      roleArn: ROLE,
      audience: undefined,
      expirationSeconds: 86400,
      regional: undefined,
    });
  });
});

describe('injectionDiffers', () => {
  const cases: [string, Partial<typeof EXPECTED>, boolean][] = [
    ['the same', {}, false],
    ['another role', { roleArn: 'arn:aws:iam::123456789012:role/old' }, true],
    ['no role (started before any annotation)', { roleArn: undefined }, true],
    ['another audience', { audience: 'vault' }, true],
    ['another lifetime', { expirationSeconds: 86400 }, true],
    ['no regional STS', { regional: undefined }, true],
  ];
  for (const [name, over, want] of cases) it(name, () => assert.equal(injectionDiffers({ ...EXPECTED, ...over }, EXPECTED), want));
});

describe('planRestarts', () => {
  const pod = (name: string, kind?: string, owner = 'w', injection = {}): PodView => ({
    name,
    owner: kind ? { kind, name: owner } : undefined,
    injection,
  });
  it('restarts each workload once, and leaves bare pods and Jobs to the report', () => {
    const pods = [
      pod('web-a', 'Deployment', 'web'),
      pod('web-b', 'Deployment', 'web'),
      pod('db-0', 'StatefulSet', 'db'),
      pod('agent-x', 'DaemonSet', 'agent'),
      pod('debug'),
      pod('job-1', 'Job', 'migrate'),
      pod('fresh', 'Deployment', 'web', EXPECTED),
    ];
    const plan = planRestarts(pods, EXPECTED);
    assert.deepEqual(
      plan.stale.map((p) => p.name),
      ['web-a', 'web-b', 'db-0', 'agent-x', 'debug', 'job-1'],
    );
    assert.deepEqual(plan.workloads, [
      { kind: 'Deployment', name: 'web' },
      { kind: 'StatefulSet', name: 'db' },
      { kind: 'DaemonSet', name: 'agent' },
    ]);
    assert.deepEqual(
      plan.unreachable.map((p) => p.name),
      ['debug', 'job-1'],
    );
    assert.equal(describeOwners(plan.stale), 'Deployment/web (2 pods), StatefulSet/db, DaemonSet/agent, Pod/debug, Job/migrate');
  });
  it('nothing stale, nothing to do', () =>
    assert.deepEqual(planRestarts([pod('a', 'Deployment', 'w', EXPECTED)], EXPECTED), { stale: [], workloads: [], unreachable: [] }));
});

describe('roleAnnotationsDiffer', () => {
  it('a ServiceAccount not seen before differs', () => assert.equal(roleAnnotationsDiffer(undefined, ANNOTATIONS), true));
  it('the same role annotations do not, whatever else changes', () =>
    assert.equal(roleAnnotationsDiffer({ ...ANNOTATIONS, 'example.com/x': 'y' }, ANNOTATIONS), false));
  for (const key of Object.keys(ANNOTATIONS)) {
    it(`${key} changed differs`, () => assert.equal(roleAnnotationsDiffer({ ...ANNOTATIONS, [key]: 'other' }, ANNOTATIONS), true));
  }
});
