import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DelayedKeys } from '../../../src/controller/delayed.ts';
import { waitFor } from '../../env/processes.ts';

function collector(now: () => number = () => Date.now()) {
  const seen: string[] = [];
  const delayed = new DelayedKeys((key) => seen.push(key), now);
  return { seen, delayed, at: (ms: number) => Date.now() + ms };
}

describe('DelayedKeys', () => {
  it('hands keys over in the order of their times, each once', async () => {
    const { seen, delayed, at } = collector();
    delayed.schedule('c', at(60));
    delayed.schedule('a', at(20));
    delayed.schedule('b', at(40));
    assert.equal(delayed.size, 3);
    await waitFor('three keys due', () => seen.length === 3, 5_000, 5);
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.equal(delayed.size, 0);
  });

  it('keeps the sooner of two times for a key', async () => {
    const { seen, delayed, at } = collector();
    delayed.schedule('later-first', at(60_000));
    delayed.schedule('later-first', at(10));
    delayed.schedule('sooner-first', at(20));
    delayed.schedule('sooner-first', at(60_000));
    assert.equal(delayed.size, 2);
    await waitFor('both keys due', () => seen.length === 2, 5_000, 5);
    assert.deepEqual(seen, ['later-first', 'sooner-first']);
    assert.equal(delayed.size, 0);
    delayed.clear();
  });

  it('drops every key on clear, and takes new ones after', async () => {
    const { seen, delayed, at } = collector();
    delayed.schedule('dropped', at(10));
    delayed.clear();
    assert.equal(delayed.size, 0);
    delayed.schedule('kept', at(30));
    await waitFor('the key scheduled after clear', () => seen.length === 1, 5_000, 5);
    assert.deepEqual(seen, ['kept']);
  });

  it('hands a key over when its timer fires, whatever an injected clock says', async () => {
    const { seen, delayed } = collector(() => 1_000);
    delayed.schedule('k', 1_020);
    await waitFor('the key due', () => seen.length === 1, 5_000, 5);
    assert.deepEqual(seen, ['k']);
  });
});
