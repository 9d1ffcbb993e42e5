// The operator's HTTP endpoints as Prometheus and the kubelet see them: /metrics carries every
// metric the operator documents, with samples from a real reconcile; /healthz and /readyz answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kubectl, newNamespace, REPO, resetAws, startOperator, waitFor, waitForCondition, waitGone } from './helpers.ts';

/** The samples of one metric: label set (as written) -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

describe('/metrics, /healthz, /readyz', () => {
  it('exposes the operator metrics after a reconcile', async () => {
    await resetAws();
    const ns = await newNamespace('metrics');
    const op = await startOperator({ watchNamespaces: [ns] });
    try {
      const base = `http://127.0.0.1:${op.httpPort}`;
      await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples', 's3-reader.yaml')]);
      await waitForCondition(ns, 's3-reader', 'Ready', 'True');

      // The gauge reads the informer cache, which sees the Ready status a moment after the API server.
      let text = '';
      await waitFor(
        'irsa_objects{ready="True"} >= 1',
        async () => {
          const res = await fetch(`${base}/metrics`);
          assert.equal(res.status, 200);
          assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
          text = await res.text();
          return (samples(text, 'irsa_objects').get('{ready="True"}') ?? 0) >= 1;
        },
        10_000,
        100,
      );

      for (const name of [
        'irsa_reconciles_total',
        'irsa_reconcile_duration_seconds',
        'irsa_aws_calls_total',
        'irsa_aws_throttles_total',
        'irsa_kube_writes_total',
        'irsa_workqueue_depth',
        'irsa_workqueue_wait_seconds',
        'irsa_objects',
        'irsa_leader',
        'irsa_informer_restarts_total',
      ]) {
        assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), `HELP of ${name}`);
        assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), `TYPE of ${name}`);
      }

      assert.ok(sum(samples(text, 'irsa_reconciles_total').values()) >= 1, 'irsa_reconciles_total has counted reconciles');
      assert.ok(
        (samples(text, 'irsa_reconcile_duration_seconds_count').get('') ?? 0) >= 1,
        'irsa_reconcile_duration_seconds has observations',
      );
      const iamCalls = [...samples(text, 'irsa_aws_calls_total')].filter(([labels]) => labels.includes('service="iam"'));
      assert.ok(iamCalls.length > 0 && sum(iamCalls.map(([, v]) => v)) >= 1, 'irsa_aws_calls_total has service="iam" samples');
      assert.ok(
        iamCalls.some(([labels]) => labels.includes('operation="CreateRole"')),
        'CreateRole was counted',
      );
      assert.ok(sum(samples(text, 'irsa_kube_writes_total').values()) >= 1, 'irsa_kube_writes_total has counted writes');
      assert.ok(samples(text, 'irsa_workqueue_depth').has(''), 'irsa_workqueue_depth has a sample');
      assert.ok((samples(text, 'irsa_workqueue_wait_seconds_count').get('') ?? 0) >= 1, 'irsa_workqueue_wait_seconds has observations');
      assert.ok(samples(text, 'irsa_workqueue_wait_seconds_bucket').has('{le="+Inf"}'));
      const objects = samples(text, 'irsa_objects');
      assert.deepEqual([...objects.keys()].sort(), ['{ready="False"}', '{ready="True"}', '{ready="Unknown"}']);
      assert.equal(samples(text, 'irsa_leader').get(''), 1);

      const healthz = await fetch(`${base}/healthz`);
      assert.equal(healthz.status, 200);
      assert.equal(await healthz.text(), 'ok');
      const readyz = await fetch(`${base}/readyz`);
      assert.equal(readyz.status, 200);
      assert.equal(await readyz.text(), 'ok');

      await kubectl(['delete', '-n', ns, 'iamsa', 's3-reader', '--wait=true', '--timeout=30s']);
      await waitGone(['-n', ns, 'iamsa', 's3-reader']);
    } finally {
      await op.stop();
    }
  });
});
