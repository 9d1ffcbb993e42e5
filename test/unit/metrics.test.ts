import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConditionStatus, IamServiceAccount } from '../../src/api/types.ts';
import { countByReady, Metrics } from '../../src/metrics.ts';

function obj(name: string, ready?: ConditionStatus): IamServiceAccount {
  return {
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { name, namespace: 'ns' },
    spec: {},
    ...(ready
      ? {
          status: { conditions: [{ type: 'Ready', status: ready, reason: 'R', message: 'm', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
        }
      : {}),
  };
}

describe('countByReady', () => {
  it('counts by the Ready condition; none is Unknown', () => {
    assert.deepEqual(countByReady([obj('a', 'True'), obj('b', 'True'), obj('c', 'False'), obj('d', 'Unknown'), obj('e')]), {
      True: 2,
      False: 1,
      Unknown: 2,
    });
    assert.deepEqual(countByReady([]), { True: 0, False: 0, Unknown: 0 });
  });
});

describe('Metrics', () => {
  it('computes irsa_objects at scrape time, every label always present', async () => {
    let objects = [obj('a', 'True')];
    const m = new Metrics(() => objects);
    let text = await m.registry.metrics();
    assert.match(text, /^irsa_objects\{ready="True"\} 1$/m);
    assert.match(text, /^irsa_objects\{ready="False"\} 0$/m);
    assert.match(text, /^irsa_objects\{ready="Unknown"\} 0$/m);
    objects = [obj('a', 'False'), obj('b')];
    text = await m.registry.metrics();
    assert.match(text, /^irsa_objects\{ready="True"\} 0$/m);
    assert.match(text, /^irsa_objects\{ready="False"\} 1$/m);
    assert.match(text, /^irsa_objects\{ready="Unknown"\} 1$/m);
  });

  it('exposes the queue wait histogram and the throttle counter', async () => {
    const m = new Metrics();
    m.queueWaitSeconds.observe(0.02);
    m.awsThrottles.inc({ service: 'iam', operation: 'GetRole' });
    const text = await m.registry.metrics();
    assert.match(text, /^irsa_workqueue_wait_seconds_bucket\{le="0\.05"\} 1$/m);
    assert.match(text, /^irsa_workqueue_wait_seconds_count 1$/m);
    assert.match(text, /^irsa_aws_throttles_total\{service="iam",operation="GetRole"\} 1$/m);
  });
});
