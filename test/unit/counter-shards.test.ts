import { describe, expect, it } from 'vitest';
import { shardOf } from '../../lib/workflows/workflow-store.js';

describe('shardOf', () => {
  it.each([1, 2, 7, 8, 9, 100, 101, 1_000, 10_001])('gives each of %i members one shard, and the shards member counts that add up to the group', (size) => {
    const shards = Math.ceil(size / 8);
    const counted = new Map<number, number>();
    for (let index = 0; index < size; index++) {
      const counter = shardOf('g', size, index, shards);
      expect(counter.shard).toBeLessThan(shards);
      expect(counter.shards).toBe(shards);
      counted.set(counter.shard, (counted.get(counter.shard) ?? 0) + 1);
    }
    expect(counted.size).toBe(shards);
    for (const [shard, members] of counted) expect(shardOf('g', size, shard, shards).members).toBe(members);
  });

  it('puts consecutive members on different shards, so a batch finishing together touches different items', () => {
    const shards = Math.ceil(1_000 / 8);
    const firstFifty = new Set(Array.from({ length: 50 }, (_, i) => shardOf('g', 1_000, i, shards).shard));
    expect(firstFifty.size).toBe(50);
  });

  it('counts a group on one item when it has one shard', () => {
    expect(shardOf('g', 500, 321, 1)).toEqual({ group: 'g', shard: 0, shards: 1, members: 500 });
  });
});
