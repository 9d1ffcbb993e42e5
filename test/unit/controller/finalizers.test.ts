import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addFinalizer, removeFinalizer } from '../../../src/controller/finalizers.ts';

const F = 'irsa.dev/finalizer';

describe('addFinalizer', () => {
  const cases: { name: string; list: string[] | undefined; want: string[] | null }[] = [
    { name: 'no list', list: undefined, want: [F] },
    { name: 'empty list', list: [], want: [F] },
    { name: 'others present', list: ['x'], want: ['x', F] },
    { name: 'already present: no write', list: ['x', F], want: null },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const before = tc.list ? [...tc.list] : undefined;
      assert.deepEqual(addFinalizer(tc.list, F), tc.want);
      assert.deepEqual(tc.list, before);
    });
  }
});

describe('removeFinalizer', () => {
  const cases: { name: string; list: string[] | undefined; want: string[] | null }[] = [
    { name: 'no list: no write', list: undefined, want: null },
    { name: 'absent: no write', list: ['x'], want: null },
    { name: 'present', list: ['x', F, 'y'], want: ['x', 'y'] },
    { name: 'the only one', list: [F], want: [] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const before = tc.list ? [...tc.list] : undefined;
      assert.deepEqual(removeFinalizer(tc.list, F), tc.want);
      assert.deepEqual(tc.list, before);
    });
  }
});
