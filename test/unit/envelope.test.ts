import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineTask } from '../../lib/jobs/task.js';
import {
  ENVELOPE_VERSION,
  EnvelopeDecodeError,
  MAX_ID_BYTES,
  PayloadTooLargeError,
  SQS_MAX_MESSAGE_BYTES,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type JobEnvelope,
} from '../../lib/jobs/envelope.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A valid envelope as a plain record, with `overrides` applied; `undefined` removes a field. */
function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    v: 1,
    jobId: '3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60',
    task: 'send-mail',
    input: { userId: 'u-1' },
    enqueuedAt: '2025-03-04T05:06:07.089Z',
    traceId: 'trace-1',
    attempt: 1,
    tracked: true,
  };
  const merged = { ...base, ...overrides };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

function body(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(record(overrides));
}

/** The EnvelopeDecodeError `decodeEnvelope(text)` throws; fails the test otherwise. */
function decodeError(text: string): EnvelopeDecodeError {
  try {
    decodeEnvelope(text);
  } catch (error) {
    if (error instanceof EnvelopeDecodeError) return error;
    throw error;
  }
  throw new Error(`expected decodeEnvelope to refuse ${text}`);
}

/** The PayloadTooLargeError `encodeEnvelope(envelope)` throws; fails the test otherwise. */
function tooLargeError(envelope: JobEnvelope): PayloadTooLargeError {
  try {
    encodeEnvelope(envelope);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return error;
    throw error;
  }
  throw new Error('expected encodeEnvelope to refuse the envelope');
}

function expectDecodeError(text: string, reason: string): void {
  const error = decodeError(text);
  expect(error.name).toBe('EnvelopeDecodeError');
  expect(error.message).toBe(`not a Ferry job envelope: ${reason}`);
}

/** An envelope of `task` whose string input pads the encoded body to exactly `bytes` bytes. */
function envelopeOfBytes(task: string, bytes: number): JobEnvelope<string> {
  const empty = newEnvelope(task, '', { tracked: true, jobId: 'job-1', traceId: 'trace-1' });
  const overhead = Buffer.byteLength(JSON.stringify(empty), 'utf8');
  return { ...empty, input: 'x'.repeat(bytes - overhead) };
}

// ---------------------------------------------------------------------------
// newEnvelope
// ---------------------------------------------------------------------------

describe('newEnvelope', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('builds a version 1 envelope of the first attempt, enqueued now', () => {
    vi.useFakeTimers({ now: new Date('2025-03-04T05:06:07.089Z') });
    const input = { userId: 'u-1' };
    const envelope = newEnvelope('send-mail', input, { tracked: true });
    expect(envelope).toMatchObject({ v: 1, task: 'send-mail', enqueuedAt: '2025-03-04T05:06:07.089Z', attempt: 1, tracked: true });
    expect(envelope.v).toBe(ENVELOPE_VERSION);
    expect(envelope.input).toBe(input);
    expect(envelope.jobId).toMatch(UUID);
    expect(Object.keys(envelope).sort()).toEqual(['attempt', 'enqueuedAt', 'input', 'jobId', 'task', 'traceId', 'tracked', 'v']);
  });

  it('gives each envelope a fresh uuid job id', () => {
    const a = newEnvelope('send-mail', {}, { tracked: true });
    const b = newEnvelope('send-mail', {}, { tracked: true });
    expect(a.jobId).toMatch(UUID);
    expect(b.jobId).toMatch(UUID);
    expect(a.jobId).not.toBe(b.jobId);
  });

  it('keeps a given job id', () => {
    expect(newEnvelope('send-mail', {}, { tracked: true, jobId: 'job-42' }).jobId).toBe('job-42');
  });

  it.each([true, false])('records tracked as %s', (tracked) => {
    expect(newEnvelope('send-mail', {}, { tracked }).tracked).toBe(tracked);
  });

  it('keeps a given trace id', () => {
    expect(newEnvelope('send-mail', {}, { tracked: true, traceId: 'trace-from-request' }).traceId).toBe('trace-from-request');
  });

  it('generates a uuid trace id, distinct from the job id, when none is given', () => {
    const envelope = newEnvelope('send-mail', {}, { tracked: true });
    expect(envelope.traceId).toMatch(UUID);
    expect(envelope.traceId).not.toBe(envelope.jobId);
  });

  it('records notBefore as an ISO-8601 time when given', () => {
    const envelope = newEnvelope('send-mail', {}, { tracked: true, notBefore: new Date(Date.UTC(2025, 5, 1, 12, 30)) });
    expect(envelope.notBefore).toBe('2025-06-01T12:30:00.000Z');
  });

  it('has no notBefore field when none is given', () => {
    expect(newEnvelope('send-mail', {}, { tracked: true })).not.toHaveProperty('notBefore');
  });
});

// ---------------------------------------------------------------------------
// encodeEnvelope and decodeEnvelope
// ---------------------------------------------------------------------------

describe('encodeEnvelope', () => {
  it('encodes the envelope as JSON', () => {
    const envelope = newEnvelope('send-mail', { userId: 'u-1' }, { tracked: false, traceId: 't-1' });
    expect(JSON.parse(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it('round-trips through decodeEnvelope', () => {
    const envelope = newEnvelope(
      'send-mail',
      { userId: 'u-1', tags: ['a', 'b'], nested: { n: 1, ok: true, none: null }, text: 'héllo ✓' },
      { tracked: true, traceId: 'trace-1', notBefore: new Date('2030-01-01T00:00:00.000Z') },
    );
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it('round-trips an envelope without notBefore', () => {
    const envelope = newEnvelope('send-mail', [1, 2, 3], { tracked: false });
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual(envelope);
    expect(decoded).not.toHaveProperty('notBefore');
  });

  it('accepts a body of exactly 1 MiB', () => {
    const envelope = envelopeOfBytes('resize-image', SQS_MAX_MESSAGE_BYTES);
    const encoded = encodeEnvelope(envelope);
    expect(Buffer.byteLength(encoded, 'utf8')).toBe(1_048_576);
    expect(decodeEnvelope(encoded)).toEqual(envelope);
  });

  it('refuses a body one byte over 1 MiB with a PayloadTooLargeError naming the task, the byte count and the limit', () => {
    const error = tooLargeError(envelopeOfBytes('resize-image', SQS_MAX_MESSAGE_BYTES + 1));
    expect(error.name).toBe('PayloadTooLargeError');
    expect(error.task).toBe('resize-image');
    expect(error.bytes).toBe(1_048_577);
    expect(error.message).toBe(
      'job for task "resize-image" is 1048577 bytes encoded; SQS accepts at most 1048576 bytes (1 MiB). Pass ids and let the task read the data.',
    );
  });

  it('writes U+FFFE, U+FFFF and characters beyond U+FFFF as escapes, so SQS and its emulator take the body, and decodes them back', () => {
    const text = 'é ✓ 🐢 \uffff \ufffe \ud800';
    const envelope = newEnvelope('send-mail', { text }, { tracked: false });
    const encoded = encodeEnvelope(envelope);
    expect(encoded).toContain('"text":"é ✓ \\ud83d\\udc22 \\uffff \\ufffe \\ud800"');
    expect(encoded).not.toMatch(/[\ud800-\udfff\ufffe\uffff]/);
    expect(decodeEnvelope(encoded)).toEqual(envelope);
  });

  it('counts bytes of UTF-8, not characters', () => {
    const empty = newEnvelope('resize-image', '', { tracked: true, jobId: 'job-1', traceId: 'trace-1' });
    const overhead = Buffer.byteLength(JSON.stringify(empty), 'utf8');
    // Two bytes per "é": fewer characters than the limit, more bytes.
    const characters = Math.ceil((SQS_MAX_MESSAGE_BYTES - overhead + 1) / 2);
    const envelope = { ...empty, input: 'é'.repeat(characters) };
    expect(JSON.stringify(envelope).length).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
    const error = tooLargeError(envelope);
    expect(error.bytes).toBe(overhead + 2 * characters);
    expect(error.message).toBe(
      `job for task "resize-image" is ${overhead + 2 * characters} bytes encoded; SQS accepts at most 1048576 bytes (1 MiB). Pass ids and let the task read the data.`,
    );
  });
});

describe('decodeEnvelope', () => {
  it('decodes a valid body', () => {
    expect(decodeEnvelope(body())).toEqual(record());
  });

  it('accepts a null input, a later attempt and a notBefore time', () => {
    const decoded = decodeEnvelope(body({ input: null, attempt: 4, tracked: false, notBefore: '2030-01-01T00:00:00.000Z' }));
    expect(decoded).toMatchObject({ input: null, attempt: 4, tracked: false, notBefore: '2030-01-01T00:00:00.000Z' });
  });

  it('refuses a body that is not JSON, keeping the parse error as the cause', () => {
    const error = decodeError('{"v":1,');
    expect(error.name).toBe('EnvelopeDecodeError');
    expect(error.message).toBe('not a Ferry job envelope: body is not JSON');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"job"'],
    ['a boolean', 'true'],
  ])('refuses %s as not a JSON object', (_what, text) => {
    expectDecodeError(text, 'body is not a JSON object');
  });

  it.each<[string, unknown, string]>([
    ['version 2', 2, '2'],
    ['version 0', 0, '0'],
    ['the string "1"', '1', '"1"'],
    ['a missing version', undefined, 'undefined'],
  ])('refuses %s, naming it and the version it reads', (_what, v, shown) => {
    expectDecodeError(body({ v }), `unsupported version ${shown} (this worker reads version 1)`);
  });

  describe.each(['jobId', 'task', 'enqueuedAt', 'traceId'])('field %s', (field) => {
    it.each<[string, unknown]>([
      ['missing', undefined],
      ['empty', ''],
      ['a number', 7],
      ['null', null],
    ])('is refused when %s', (_what, value) => {
      expectDecodeError(body({ [field]: value }), `field "${field}" must be a non-empty string`);
    });
  });

  it('reads a body without input as an undefined input, which is how encodeEnvelope writes one', () => {
    const encoded = encodeEnvelope(newEnvelope('send-mail', undefined, { tracked: false }));
    expect(JSON.parse(encoded)).not.toHaveProperty('input');
    expect(decodeEnvelope(encoded).input).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['the string "1"', '1'],
    ['missing', undefined],
    ['null', null],
  ])('refuses attempt %s', (_what, attempt) => {
    expectDecodeError(body({ attempt }), 'field "attempt" must be a whole number >= 1');
  });

  it.each<[string, unknown]>([
    ['the string "true"', 'true'],
    ['1', 1],
    ['missing', undefined],
    ['null', null],
  ])('refuses tracked %s', (_what, tracked) => {
    expectDecodeError(body({ tracked }), 'field "tracked" must be a boolean');
  });

  it.each<[string, unknown]>([
    ['a word', 'soon'],
    ['a date in another format', 'Jan 1 2030'],
    ['an empty string', ''],
    ['a number', 1_700_000_000_000],
    ['null', null],
  ])('refuses notBefore that is %s', (_what, notBefore) => {
    expectDecodeError(body({ notBefore }), 'field "notBefore" must be an ISO-8601 time');
  });

  it.each<[string, string]>([
    ['a space', 'send mail'],
    ['an emoji', 'mail.🚀'],
    ['a leading dot', '.send-mail'],
    ['129 characters', 'a'.repeat(129)],
  ])('refuses a task name with %s, which no task can have, as poison naming it', (_what, task) => {
    expect(decodeError(body({ task })).message).toMatch(/^not a Ferry job envelope: field "task" must be a task name: 1-128 letters, digits and "\.:_-", starting with a letter or digit \(got "/);
  });

  it('accepts every task name defineTask accepts, up to 128 characters', () => {
    for (const task of ['a', 'report.slow-blog-views', 'ns:task_1', 'a'.repeat(128)]) {
      expect(() => defineTask({ name: task, input: z.unknown(), run: async () => undefined })).not.toThrow();
      expect(decodeEnvelope(body({ task })).task).toBe(task);
    }
  });

  it('names a long task or version cut short, with U+FFFF escaped, so the reason fits beside a 1 MiB body', () => {
    expect(decodeError(body({ task: 'x'.repeat(500_000) })).message).toBe(
      `not a Ferry job envelope: field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got "${'x'.repeat(59)}…)`,
    );
    expect(decodeError(body({ v: 'v'.repeat(500_000) })).message).toBe(`not a Ferry job envelope: unsupported version "${'v'.repeat(59)}… (this worker reads version 1)`);
    expect(decodeError(body({ task: 'a\uffff' })).message).toContain('(got "a\\uffff")');
  });

  it.each(['jobId', 'traceId'])('refuses a %s over 1,024 bytes of UTF-8, and accepts one of exactly 1,024', (field) => {
    expect(MAX_ID_BYTES).toBe(1024);
    expectDecodeError(body({ [field]: 'é'.repeat(513) }), `field "${field}" must be at most 1024 bytes`);
    expect(decodeEnvelope(body({ [field]: 'é'.repeat(512) }))[field as 'jobId']).toBe('é'.repeat(512));
  });

  it.each<[string, unknown]>([
    ['a word', 'yesterday'],
    ['a date in another format', 'Jan 2 2026'],
    ['500 KB of text', 't'.repeat(500_000)],
  ])('refuses enqueuedAt that is %s', (_what, enqueuedAt) => {
    expectDecodeError(body({ enqueuedAt }), 'field "enqueuedAt" must be an ISO-8601 time');
  });

  it('refuses a workflow whose ids are empty or over 1,024 bytes', () => {
    expectDecodeError(body({ workflow: { workflowId: '', nodeId: 'n1' } }), 'field "workflow" must hold ids of 1 to 1024 bytes');
    expectDecodeError(body({ workflow: { workflowId: 'w', nodeId: 'n'.repeat(1025) } }), 'field "workflow" must hold ids of 1 to 1024 bytes');
    expect(decodeEnvelope(body({ workflow: { workflowId: 'w', nodeId: 'n1' } })).workflow).toEqual({ workflowId: 'w', nodeId: 'n1' });
  });

  it.each([
    ['an index past the group', { id: 'g', size: 3, index: 3, shards: 1 }],
    ['no shards', { id: 'g', size: 3, index: 0, shards: 0 }],
    ['more shards than members', { id: 'g', size: 3, index: 0, shards: 4 }],
    ['a fractional size', { id: 'g', size: 2.5, index: 0, shards: 1 }],
    ['an empty group id', { id: '', size: 3, index: 0, shards: 1 }],
    ['no shard count', { id: 'g', size: 3, index: 0 }],
  ])('refuses a workflow membership whose group has %s', (_what, group) => {
    expectDecodeError(body({ workflow: { workflowId: 'w', nodeId: 'n1', group } }), 'field "workflow.group" must be { id: string, size: whole number, index: whole number below size, shards: 1 to size }');
  });

  it("keeps a membership's group and result room, and refuses a negative room", () => {
    const workflow = { workflowId: 'w', nodeId: 'r.0.2', group: { id: 'r.0', size: 3, index: 2, shards: 1 }, resultRoom: 1000 };
    expect(decodeEnvelope(body({ workflow })).workflow).toEqual(workflow);
    expectDecodeError(body({ workflow: { ...workflow, resultRoom: -1 } }), 'field "workflow.resultRoom" must be a whole number >= 0');
  });

  it('reports the first problem in field order', () => {
    expectDecodeError(body({ task: '', attempt: 0, tracked: 'yes' }), 'field "task" must be a non-empty string');
  });
});
