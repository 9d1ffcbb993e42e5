import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { flatString, StringPool } from '../../src/strings.ts';

describe('StringPool', () => {
  const parsed = () =>
    JSON.parse(
      JSON.stringify({
        apiVersion: 'irsa.dev/v1alpha1',
        kind: 'IamServiceAccount',
        metadata: { name: 'app', namespace: 'team-a', finalizers: ['irsa.dev/finalizer'], generation: 3 },
        spec: { attachPolicyARNs: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess'], roleOnly: true },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'm'.repeat(300) }], roleARN: null },
      }),
    ) as Record<string, unknown>;

  it('gives back the same value, changed in place, numbers, booleans and nulls untouched', () => {
    const pool = new StringPool();
    const obj = parsed();
    assert.equal(pool.share(obj), obj);
    assert.deepEqual(obj, parsed());
  });

  it('keeps one entry per distinct value, not per key, and none for long values', () => {
    const pool = new StringPool();
    pool.share(parsed());
    pool.share(parsed());
    // irsa.dev/v1alpha1, IamServiceAccount, app, team-a, irsa.dev/finalizer, the policy ARN, Ready, True, Synced
    assert.equal(pool.size, 9);
  });

  it('starts again when full, so values seen once cannot grow it', () => {
    const pool = new StringPool(3);
    for (const s of ['a', 'b', 'c']) pool.intern(s);
    assert.equal(pool.size, 3);
    assert.equal(pool.intern('a'), 'a');
    assert.equal(pool.size, 3);
    assert.equal(pool.intern('d'), 'd');
    assert.equal(pool.size, 1);
  });
});

describe('flatString', () => {
  it('keeps the characters of a string built from parts', () => {
    const arn = `arn:aws:iam::111122223333:role/${'x'.repeat(40)}`;
    const statement = 1;
    const built = `the trust policy of ${arn} admits system:serviceaccount:a:b (statement ${statement})`;
    assert.equal(flatString(built), built);
  });

  it('copies a slice out of its document, which a kept slice would keep whole', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    /** Heap MB still held after keeping 20-character parts of twenty 1 MB documents. */
    const retainedMb = (keep: (part: string) => string) => {
      gc();
      const before = process.memoryUsage().heapUsed;
      const kept = Array.from({ length: 20 }, (_, i) => keep(`${'<x>'.repeat(350_000)}${i}`.slice(30, 50)));
      gc();
      const mb = (process.memoryUsage().heapUsed - before) / 1048576;
      assert.equal(kept.length, 20);
      return mb;
    };
    assert.ok(retainedMb((part) => part) > 15, 'the hazard: plain slices keep their documents');
    assert.ok(retainedMb(flatString) < 2, 'copies do not');
  });

  it('does not normalise text that is not NFC', () => {
    const decomposed = 'audience cafe\u0301';
    assert.equal(flatString(decomposed), decomposed);
    assert.notEqual(flatString(decomposed), decomposed.normalize());
  });
});
