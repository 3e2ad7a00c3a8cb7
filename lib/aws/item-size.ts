/**
 * Whether a value can be stored as a DynamoDB attribute, and how many bytes
 * it takes there, checked before anything depends on the write succeeding.
 *
 * A value the document client cannot marshal (a `Date`, a class instance, a
 * function, a `bigint`-free `Infinity`) or an item over DynamoDB's 400 KB is
 * refused by the service only when it is written; a worker that learned it
 * then would already have run the task's effect. The size follows DynamoDB's
 * documented rules (Developer Guide, "Item sizes and formats"): strings and
 * binaries by their bytes, a number by about one byte per two significant
 * digits plus one, a boolean or null one byte, a list or map 3 bytes plus one
 * per element (and, for a map, each name's bytes).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/** DynamoDB's largest item: 400 KB, names and values together. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

export type Storability = { readonly storable: true; readonly bytes: number } | { readonly storable: false; readonly reason: string };

/** Bytes one attribute value takes in an item (its name not included). */
export function attributeValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + attributeValueBytes(element), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name, 'utf8') + attributeValueBytes(element), 0);
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  return 0;
}

function numberBytes(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/**
 * Whether `value` can be written as attribute `name` of an item, marshalled
 * as Ferry's document client marshals it, in at most `maxBytes` (the item's
 * limit less what its other attributes take).
 */
export function storability(value: unknown, name: string, maxBytes: number): Storability {
  let marshalled: AttributeValue;
  try {
    const item = marshall({ [name]: value ?? null }, { removeUndefinedValues: true, convertClassInstanceToMap: false });
    marshalled = item[name] ?? { NULL: true };
  } catch (error) {
    return { storable: false, reason: `it cannot be marshalled for DynamoDB (${(error as Error).message})` };
  }
  const badNumber = firstBadNumber(marshalled);
  if (badNumber !== undefined) return { storable: false, reason: `it holds the number ${badNumber}, which DynamoDB cannot store (finite, 1E-130 to 9.9E+125 in magnitude)` };
  const bytes = Buffer.byteLength(name, 'utf8') + attributeValueBytes(marshalled);
  if (bytes > maxBytes) {
    return { storable: false, reason: `it takes ${bytes.toLocaleString('en-US')} bytes as a DynamoDB attribute; at most ${maxBytes.toLocaleString('en-US')} bytes fit in its item (DynamoDB items are at most 400 KB)` };
  }
  return { storable: true, bytes };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The first number in `value` DynamoDB refuses (NaN, Infinity, or out of its range), if any. */
function firstBadNumber(value: AttributeValue): string | undefined {
  if (value.N !== undefined) {
    const n = Number(value.N);
    const magnitude = Math.abs(n);
    return !NUMBER.test(value.N) || !Number.isFinite(n) || magnitude >= 1e126 || (magnitude > 0 && magnitude < 1e-130) ? value.N : undefined;
  }
  for (const element of value.L ?? Object.values(value.M ?? {})) {
    const bad = firstBadNumber(element);
    if (bad !== undefined) return bad;
  }
  return undefined;
}
