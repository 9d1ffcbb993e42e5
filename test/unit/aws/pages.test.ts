import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachPage } from '../../../src/aws/pages.ts';

it('forEachPage follows Marker while IsTruncated, and hands over each page in order', async () => {
  const pages: { IsTruncated: boolean; Marker: string; items: number[] }[] = [
    { IsTruncated: true, Marker: 'm1', items: [1, 2] },
    { IsTruncated: true, Marker: 'm2', items: [3] },
    { IsTruncated: false, Marker: 'ignored', items: [4] },
  ];
  const asked: (string | undefined)[] = [];
  const seen: number[] = [];
  await forEachPage(
    (marker) => {
      asked.push(marker);
      return Promise.resolve(pages[asked.length - 1] ?? { IsTruncated: false, Marker: '', items: [] });
    },
    (page) => seen.push(...page.items),
  );
  assert.deepEqual(asked, [undefined, 'm1', 'm2']);
  assert.deepEqual(seen, [1, 2, 3, 4]);
});

it('forEachPage stops at a page without a Marker even when IsTruncated', async () => {
  let calls = 0;
  await forEachPage(
    () => {
      calls++;
      return Promise.resolve({ IsTruncated: true });
    },
    () => undefined,
  );
  assert.equal(calls, 1);
});
