/** DynamoDB item sizes, as the Developer Guide counts them, and what cannot be stored. */
import { describe, expect, it } from 'vitest';
import { attributeValueBytes, storability } from '../../lib/aws/item-size.js';

describe('attributeValueBytes', () => {
  it('counts strings in UTF-8 bytes, numbers by significant digits, booleans and null as one byte', () => {
    expect(attributeValueBytes({ S: 'héllo' })).toBe(6);
    expect(attributeValueBytes({ N: '12345' })).toBe(4);
    expect(attributeValueBytes({ N: '-0.00120' })).toBe(2);
    expect(attributeValueBytes({ BOOL: true })).toBe(1);
    expect(attributeValueBytes({ NULL: true })).toBe(1);
  });

  it('counts 3 bytes for a list or map, one more per element, and each name of a map', () => {
    expect(attributeValueBytes({ L: [] })).toBe(3);
    expect(attributeValueBytes({ L: [{ M: {} }, { M: {} }] })).toBe(3 + 2 * (1 + 3));
    expect(attributeValueBytes({ M: { ab: { S: 'xyz' } } })).toBe(3 + 1 + 2 + 3);
  });
});

describe('storability', () => {
  it('refuses what the document client cannot marshal, naming why', () => {
    const verdict = storability({ at: new Date(0) }, 'result', 1000);
    expect(verdict.storable).toBe(false);
    expect(verdict.storable === false && verdict.reason).toMatch(/^it cannot be marshalled for DynamoDB/);
  });

  it('refuses numbers DynamoDB cannot hold', () => {
    expect(storability({ n: Number.NaN }, 'result', 1000)).toMatchObject({ storable: false });
    expect(storability([Infinity], 'result', 1000)).toMatchObject({ storable: false });
    const huge = storability(1e200, 'result', 1000);
    expect(huge.storable === false && huge.reason).toContain('1e+200');
  });

  it('measures empty objects as DynamoDB does: 110,000 of them are 330 KB of JSON but over 400 KB stored', () => {
    const value = Array.from({ length: 110_000 }, () => ({}));
    expect(JSON.stringify(value).length).toBeLessThan(350 * 1024);
    const verdict = storability(value, 'result', 400 * 1024);
    expect(verdict).toMatchObject({ storable: false });
    expect(verdict.storable === false && verdict.reason).toContain('it takes 440,009 bytes as a DynamoDB attribute');
  });

  it('accepts plain JSON within the limit, with its size', () => {
    expect(storability({ count: 3, urls: ['/a', '/b'] }, 'result', 1000)).toEqual({ storable: true, bytes: 6 + 3 + (1 + 5 + 2) + (1 + 4 + 3 + (1 + 2) * 2) });
  });
});
