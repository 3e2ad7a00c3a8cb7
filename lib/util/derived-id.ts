import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id (version 8: custom) derived from `parts`: the same parts
 * always give the same id. For effects a redelivery repeats under the same
 * key (a workflow member's job, a job a task enqueues), so the repeat is the
 * same job and not a second one.
 */
export function derivedId(...parts: readonly string[]): string {
  const hex = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
