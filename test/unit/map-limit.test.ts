import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../lib/util/map-limit.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps the input order with calls in flight at once', async () => {
    expect(await mapLimit([30, 10, 20, 0], 3, async (ms, i) => (await later(ms), i))).toEqual([0, 1, 2, 3]);
  });

  it('after a call fails, starts no further item and throws only once the calls in flight have finished', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapLimit(Array.from({ length: 10 }, (_, i) => i), 3, async (i) => {
      started.push(i);
      if (i === 0) throw new Error('item 0 failed');
      await later(30);
      finished.push(i);
      return i;
    });
    await expect(run).rejects.toThrow('item 0 failed');
    // Items 1 and 2 were in flight when 0 failed: they finished before the error came; none after them started.
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([1, 2]);
  });
});
