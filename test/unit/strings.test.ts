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
    // Strings: irsa.dev/v1alpha1, IamServiceAccount, app, team-a, irsa.dev/finalizer, the policy
    // ARN, Ready, True, Synced. Arrays and objects: metadata, its finalizers, spec, its ARNs (not
    // the condition, the conditions or status, which hold the 300-character message, nor the root).
    assert.equal(pool.size, 13);
  });

  it('gives equal small arrays and objects one frozen copy, which cannot be written through', () => {
    const pool = new StringPool();
    const a = pool.share(parsed()) as { metadata: { finalizers: string[] }; spec: { attachPolicyARNs: string[] } };
    const b = pool.share(parsed()) as typeof a;
    assert.notEqual(a, b, 'the values handed in are kept, not replaced');
    assert.equal(a.spec, b.spec);
    assert.equal(a.metadata.finalizers, b.metadata.finalizers);
    assert.ok(Object.isFrozen(a.spec.attachPolicyARNs));
    assert.throws(() => a.metadata.finalizers.push('x'), TypeError);
    assert.deepEqual(a.metadata.finalizers, ['irsa.dev/finalizer']);
    assert.equal(Object.isFrozen(a), false);
  });

  it('shares only values equal in their JSON: not those with other values, types or key order', () => {
    const pool = new StringPool();
    const [one, other, text, reordered, same] = [
      { a: 1, b: [true] },
      { a: 1, b: [false] },
      { a: '1', b: [true] },
      { b: [true], a: 1 },
      { a: 1, b: [true] },
    ].map((v) => pool.share({ v }).v);
    assert.equal(same, one);
    for (const v of [other, text, reordered]) assert.notEqual(v, one);
    assert.deepEqual(reordered, one);
  });

  it('does not pool an array or object whose JSON is long, nor what holds it', () => {
    const pool = new StringPool();
    const big = () => ({ outer: { inner: Array.from({ length: 60 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) } });
    const a = pool.share(big());
    const b = pool.share(big());
    assert.notEqual(a.outer, b.outer);
    assert.notEqual(a.outer.inner, b.outer.inner);
    assert.equal(Object.isFrozen(a.outer.inner), false);
    assert.equal(a.outer.inner[7], b.outer.inner[7], 'its strings are still shared');
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

  it('holds at most its bound of arrays and objects, and starts again when full', () => {
    const pool = new StringPool(100, 2);
    const shared = (v: unknown) => pool.share({ v }).v;
    const first = shared([1]);
    shared([2]);
    assert.equal(shared([1]), first);
    assert.equal(pool.size, 2);
    shared([3]);
    assert.equal(pool.size, 1, 'the arrays started again; numbers are not pooled');
    assert.notEqual(shared([1]), first);
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
