/**
 * The bad-input corpus (issue 12): requests and messages Ferry must refuse
 * cleanly, each with the answer it must give. HTTP: a 4xx naming the problem,
 * with nothing written and nothing enqueued (a few odd but valid inputs are
 * accepted instead, and must come back exactly as sent). SQS: the queue's DLQ,
 * with the reason recorded (`FerryDeadLetter`), or SQS's own refusal of the send.
 *
 * Data only: test/local/bad-inputs.test.ts runs every case. Paths are under
 * the API's stage (the test puts `/prod` in front), as sent on the wire: not
 * normalized, percent-escapes kept. Every SQS body is distinct (the test finds
 * each dead letter by its body) and ASCII (one byte order mark aside), so SQS
 * takes it as written.
 */
import type { DeadLetterCause } from '../../lib/jobs/dead-letter.js';

/** A body: text, raw bytes (base64, for bytes that are not UTF-8), or `bytes` bytes generated as `prefix`, `repeat`…, `suffix`. */
export type CorpusBody =
  | string
  | { readonly base64: string }
  | { readonly bytes: number; readonly repeat: string; readonly prefix?: string; readonly suffix?: string };

export interface HttpRequestSpec {
  readonly method: string;
  /** Path and query under the stage, sent as written (a character above U+007F goes out as one raw byte). */
  readonly path: string;
  /** Header lines in order; a name may repeat. A `host` line replaces the real one. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: CorpusBody;
}

/** What an HTTP case may change. */
export type HttpEffects =
  /** Bad input: no item written to any table, no message sent to any queue. */
  | { readonly kind: 'none' }
  /** An odd but valid ping: one ping stored whose message reads back exactly as `message`, and its job enqueued. */
  | { readonly kind: 'ping'; readonly message: string }
  /** An odd but valid report request: its refresh claimed and its job enqueued. */
  | { readonly kind: 'report-refresh' };

export interface HttpExpectation {
  readonly status: number;
  /**
   * The problem as the answer states it: Ferry's JSON `error.message`, API
   * Gateway's JSON `message`, otherwise the body's text (an HTML page). A
   * string must occur in it; `/^$/` for answers with no body (HEAD, the HTTP
   * parser's refusals), whose status line names the problem.
   */
  readonly problem: string | RegExp;
  /** The status line's reason phrase, when the body cannot name the problem. */
  readonly statusText?: string;
  /** The answer's media type (its `content-type` without parameters). */
  readonly contentType?: string;
  /** Text the body must not contain (a spoofed header leaking into a link). */
  readonly bodyExcludes?: string;
  readonly effects: HttpEffects;
}

export interface HttpCase {
  readonly kind: 'http';
  readonly id: string;
  /** One line: the input, and the answer it gets. */
  readonly description: string;
  readonly request: HttpRequestSpec;
  readonly expect: HttpExpectation;
  /** Set while Ferry gives another answer than `expect`: the test reports the case and does not assert it. */
  readonly knownDefect?: string;
}

export type SqsExpectation =
  /** The worker sends the message, as it was, to the queue's DLQ with this reason. */
  | {
      readonly kind: 'dead-letter';
      readonly cause: DeadLetterCause;
      readonly errorName: string;
      /** Must occur in the reason's `errorMessage`. */
      readonly errorMessage: string;
      /** The reason's task and attempts, when the envelope could be read. */
      readonly task?: string;
      readonly attempts?: number;
    }
  /** SQS refuses the send itself: nothing reaches a worker. */
  | { readonly kind: 'refused'; readonly errorName: RegExp; readonly errorMessage: string };

export interface SqsCase {
  readonly kind: 'sqs';
  readonly id: string;
  readonly description: string;
  /** The declared queue the raw body is sent to. */
  readonly queue: 'io' | 'cpu';
  readonly body: CorpusBody;
  readonly expect: SqsExpectation;
  readonly knownDefect?: string;
}

export type BadInputCase = HttpCase | SqsCase;

const MiB = 1024 * 1024;
const NONE: HttpEffects = { kind: 'none' };
const JSON_TYPE: readonly [string, string] = ['content-type', 'application/json'];
const MISSING_TOKEN = 'Missing Authentication Token';

/** JSON with every character above U+007F escaped: ASCII, which SQS (and its emulator) take as written. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A fixed job id per case, so that tracked jobs never share a record. */
const jobId = (n: number) => `0b5e1c00-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A valid envelope of `demo.ping` (case `n`), with `fields` changed; an undefined field is left out. */
function envelope(n: number, fields: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    v: 1,
    jobId: jobId(n),
    task: 'demo.ping',
    input: { pingId: `9a1c0000-0000-4000-8000-${String(n).padStart(12, '0')}` },
    enqueuedAt: '2026-01-02T03:04:05.678Z',
    traceId: `trace-${n}`,
    attempt: 1,
    tracked: true,
  };
  return asciiJson({ ...base, ...fields });
}

const poison = (errorMessage: string): SqsExpectation => ({ kind: 'dead-letter', cause: 'poison', errorName: 'EnvelopeDecodeError', errorMessage: `not a Ferry job envelope: ${errorMessage}` });
const badInput = (task: string, errorMessage: string, attempts = 1): SqsExpectation => ({
  kind: 'dead-letter',
  cause: 'non-retryable',
  errorName: 'InvalidTaskInputError',
  errorMessage: `invalid input for task "${task}": ${errorMessage}`,
  task,
  attempts,
});

/** A report request refused with 400 naming `problem`. */
function badParams(id: string, description: string, path: string, problem: string, method = 'GET'): HttpCase {
  return { kind: 'http', id, description, request: { method, path }, expect: { status: 400, problem, contentType: 'application/json', effects: NONE } };
}

/** A POST /pings refused with 400 naming `problem`. */
function badPing(id: string, description: string, body: CorpusBody, problem: string, headers: readonly (readonly [string, string])[] = [JSON_TYPE]): HttpCase {
  return { kind: 'http', id, description, request: { method: 'POST', path: '/pings', headers, body }, expect: { status: 400, problem, contentType: 'application/json', effects: NONE } };
}

/** A request API Gateway itself refuses: no resource has this path and method. */
function missingToken(id: string, description: string, method: string, path: string): HttpCase {
  return { kind: 'http', id, description, request: { method, path }, expect: { status: 403, problem: MISSING_TOKEN, effects: NONE } };
}

const days = (range: string, got: string) => `"days" must be an integer from ${range} (got "${got}")`;
const SBV = '/reports/slow-blog-views';
const SU = '/reports/slowest-urls';
const NOT_JSON = 'request body is not valid JSON';
const NOT_OBJECT = 'request body must be a JSON object';
const BAD_MESSAGE = '"message" must be a string of at most 200 characters';
const BAD_ID = '"id" must be a ping id, a UUID';

export const httpCases: readonly HttpCase[] = [
  // Report parameters: every parameter of every report in app/reports/report-registry.ts.
  badParams('sbv-days-word', 'slow-blog-views with days=abc is refused: days must be an integer', `${SBV}?days=abc`, days('1 to 365', 'abc')),
  badParams('sbv-days-zero', 'slow-blog-views with days=0 is refused: below the range 1-365', `${SBV}?days=0`, days('1 to 365', '0')),
  badParams('sbv-days-fraction', 'slow-blog-views with days=1.5 is refused: not a whole number', `${SBV}?days=1.5`, days('1 to 365', '1.5')),
  badParams('sbv-days-empty', 'slow-blog-views with an empty days= is refused, not read as the default', `${SBV}?days=`, days('1 to 365', '')),
  badParams('sbv-days-repeated', 'slow-blog-views with days given twice is refused: which one is meant is unknown', `${SBV}?days=7&days=8`, '"days" is given more than once'),
  badParams('sbv-minResponseMs-negative', 'slow-blog-views with minResponseMs=-1 is refused: below 0', `${SBV}?minResponseMs=-1`, '"minResponseMs" must be an integer from 0 to 600000 (got "-1")'),
  badParams('sbv-minResponseMs-huge', 'slow-blog-views with a 20-digit minResponseMs is refused, not rounded', `${SBV}?minResponseMs=99999999999999999999`, '"minResponseMs" must be an integer from 0 to 600000 (got "99999999999999999999")'),
  badParams('sbv-minResponseMs-exponent', 'slow-blog-views with minResponseMs=1e3 is refused: exponents are not integers here', `${SBV}?minResponseMs=1e3`, '"minResponseMs" must be an integer from 0 to 600000 (got "1e3")'),
  badParams('sbv-minResponseMs-empty', 'slow-blog-views with an empty minResponseMs= is refused', `${SBV}?minResponseMs=`, '"minResponseMs" must be an integer from 0 to 600000 (got "")'),
  badParams('sbv-minResponseMs-repeated', 'slow-blog-views with minResponseMs given twice is refused', `${SBV}?minResponseMs=1&minResponseMs=2`, '"minResponseMs" is given more than once'),
  badParams('sbv-urlContains-long', 'slow-blog-views with a 101-character urlContains is refused: at most 100', `${SBV}?urlContains=${'a'.repeat(101)}`, '"urlContains" must be text of at most 100 characters (got 101 characters)'),
  badParams('sbv-urlContains-repeated', 'slow-blog-views with urlContains given twice is refused', `${SBV}?urlContains=blog&urlContains=news`, '"urlContains" is given more than once'),
  badParams('sbv-unknown-param', 'slow-blog-views with day=7 (not a parameter) is refused naming it', `${SBV}?day=7`, 'unknown parameter "day"'),
  badParams('sbv-param-case', 'slow-blog-views with Days=7 is refused: parameter names are case-sensitive', `${SBV}?Days=7`, 'unknown parameter "Days"'),
  badParams('su-days-high', 'slowest-urls with days=366 is refused: above the range 1-365', `${SU}?days=366`, days('1 to 365', '366')),
  badParams('su-days-hex', 'slowest-urls with days=0x10 is refused: hexadecimal is not read', `${SU}?days=0x10`, days('1 to 365', '0x10')),
  badParams('su-days-bare', 'slowest-urls with a bare "days" (no "=") is refused as an empty value', `${SU}?days`, days('1 to 365', '')),
  badParams('su-days-repeated-same', 'slowest-urls with days=7 given twice, even equal, is refused', `${SU}?days=7&days=7`, '"days" is given more than once'),
  badParams('su-limit-zero', 'slowest-urls with limit=0 is refused: below the range 1-100', `${SU}?limit=0`, '"limit" must be an integer from 1 to 100 (got "0")'),
  badParams('su-limit-high', 'slowest-urls with limit=101 is refused: above the range 1-100', `${SU}?limit=101`, '"limit" must be an integer from 1 to 100 (got "101")'),
  badParams('su-limit-word', 'slowest-urls with limit=ten is refused: not an integer', `${SU}?limit=ten`, '"limit" must be an integer from 1 to 100 (got "ten")'),
  badParams('su-limit-empty', 'slowest-urls with an empty limit= is refused', `${SU}?limit=`, '"limit" must be an integer from 1 to 100 (got "")'),
  badParams('su-limit-repeated', 'slowest-urls with limit given twice is refused', `${SU}?limit=5&limit=6`, '"limit" is given more than once'),
  badParams('su-minViews-zero', 'slowest-urls with minViews=0 is refused: below the range 1-1000000', `${SU}?minViews=0`, '"minViews" must be an integer from 1 to 1000000 (got "0")'),
  badParams('su-minViews-high', 'slowest-urls with minViews=1000001 is refused: above the range', `${SU}?minViews=1000001`, '"minViews" must be an integer from 1 to 1000000 (got "1000001")'),
  badParams('su-minViews-decimal', 'slowest-urls with minViews=2.0 is refused: not written as an integer', `${SU}?minViews=2.0`, '"minViews" must be an integer from 1 to 1000000 (got "2.0")'),
  badParams('su-minViews-empty', 'slowest-urls with an empty minViews= is refused', `${SU}?minViews=`, '"minViews" must be an integer from 1 to 1000000 (got "")'),
  badParams('su-minViews-repeated', 'slowest-urls with minViews given twice is refused', `${SU}?minViews=1&minViews=2`, '"minViews" is given more than once'),
  badParams('su-urlContains-long', 'slowest-urls with 101 "é" in urlContains is refused: 101 characters, at most 100', `${SU}?urlContains=${'%C3%A9'.repeat(101)}`, '"urlContains" must be text of at most 100 characters (got 101 characters)'),
  badParams('su-urlContains-repeated', 'slowest-urls with urlContains given twice (one empty) is refused', `${SU}?urlContains=&urlContains=blog`, '"urlContains" is given more than once'),
  badParams('su-unknown-param', 'slowest-urls with sort=desc (not a parameter) is refused naming it', `${SU}?sort=desc`, 'unknown parameter "sort"'),
  badParams(
    'su-every-problem',
    'slowest-urls with an unknown parameter and two out of range is refused naming all three',
    `${SU}?days=0&limit=0&sort=x`,
    'unknown parameter "sort"; "days" must be an integer from 1 to 365 (got "0"); "limit" must be an integer from 1 to 100 (got "0")',
  ),
  badParams(
    'su-many-unknown-params',
    'slowest-urls with 1,500 unknown parameters (a 13 KB query) is refused naming each, the first first',
    `${SU}?${Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join('&')}`,
    'unknown parameter "p0"; unknown parameter "p1"; ',
  ),
  badParams('sbv-retry-bad-param', 'POST …/retry with days=abc is refused before any retry is claimed', `${SBV}/retry?days=abc`, days('1 to 365', 'abc'), 'POST'),

  // Unknown reports.
  { kind: 'http', id: 'report-unknown', description: 'an unknown report answers 404 naming it and listing the reports', request: { method: 'GET', path: '/reports/no-such-report' }, expect: { status: 404, problem: 'no report "no-such-report"', contentType: 'application/json', effects: NONE } },
  { kind: 'http', id: 'report-unknown-case', description: 'SLOW-BLOG-VIEWS is an unknown report: names are case-sensitive', request: { method: 'GET', path: '/reports/SLOW-BLOG-VIEWS' }, expect: { status: 404, problem: 'no report "SLOW-BLOG-VIEWS"', effects: NONE } },
  { kind: 'http', id: 'report-unknown-retry', description: 'POST …/retry of an unknown report answers 404 naming it', request: { method: 'POST', path: '/reports/nope/retry' }, expect: { status: 404, problem: 'no report "nope"', effects: NONE } },
  { kind: 'http', id: 'report-unknown-html', description: 'a browser asking for an unknown report gets a 404 page naming it', request: { method: 'GET', path: '/reports/nope', headers: [['accept', 'text/html']] }, expect: { status: 404, problem: 'There is no report named “nope”', contentType: 'text/html', effects: NONE } },

  // POST /pings: bodies that are not a JSON object.
  badPing('ping-malformed-json', 'POST /pings with "{oops" is refused as not JSON', '{oops', NOT_JSON),
  badPing('ping-truncated-json', 'POST /pings with JSON cut short is refused as not JSON', '{"message":"hi"', NOT_JSON),
  badPing('ping-blank-body', 'POST /pings with a body of spaces is refused as not JSON', '   ', NOT_JSON),
  badPing('ping-array', 'POST /pings with a JSON array is refused: the body must be an object', '["hi"]', NOT_OBJECT),
  badPing('ping-string', 'POST /pings with a JSON string is refused: the body must be an object', '"hi"', NOT_OBJECT),
  badPing('ping-null', 'POST /pings with JSON null is refused: the body must be an object', 'null', NOT_OBJECT),
  badPing('ping-form', 'POST /pings with a form (application/x-www-form-urlencoded) is refused as not JSON', 'message=hello', NOT_JSON, [['content-type', 'application/x-www-form-urlencoded']]),
  badPing(
    'ping-multipart',
    'POST /pings with multipart/form-data is refused as not JSON',
    '--b\r\ncontent-disposition: form-data; name="message"\r\n\r\nhello\r\n--b--\r\n',
    NOT_JSON,
    [['content-type', 'multipart/form-data; boundary=b']],
  ),
  badPing('ping-json-as-text', 'POST /pings as text/plain is read as JSON (as curl -d sends), so its bad message is what is refused', '{"message":42}', BAD_MESSAGE, [['content-type', 'text/plain']]),
  // POST /pings: bad fields.
  badPing('ping-message-number', 'POST /pings with message 42 is refused: message must be a string', '{"message":42}', BAD_MESSAGE),
  badPing('ping-message-null', 'POST /pings with message null is refused: message must be a string', '{"message":null}', BAD_MESSAGE),
  badPing('ping-message-array', 'POST /pings with message ["a"] is refused: message must be a string', '{"message":["a"]}', BAD_MESSAGE),
  badPing('ping-message-long', 'POST /pings with a 201-character message is refused: at most 200', JSON.stringify({ message: 'm'.repeat(201) }), BAD_MESSAGE),
  badPing('ping-message-long-accents', 'POST /pings with a message of 201 "é" is refused: 201 characters, at most 200', JSON.stringify({ message: 'é'.repeat(201) }), BAD_MESSAGE),
  badPing('ping-duplicate-key', 'POST /pings with "message" twice is read as JSON does (the last wins) and refused for that value', '{"message":"ok","message":7}', BAD_MESSAGE),
  badPing('ping-pool-unknown', 'POST /pings for pool "gpu" is refused naming the declared pools', '{"pool":"gpu"}', '"pool" must be one of io, cpu (got "gpu")'),
  badPing('ping-pool-case', 'POST /pings for pool "IO" is refused: pool names are case-sensitive', '{"pool":"IO"}', '"pool" must be one of io, cpu (got "IO")'),
  badPing('ping-pool-dlq', 'POST /pings for pool "io-dlq" is refused: a DLQ is not a pool', '{"pool":"io-dlq"}', '"pool" must be one of io, cpu (got "io-dlq")'),
  badPing('ping-pool-number', 'POST /pings for pool 1 is refused: the pool is a name', '{"pool":1}', '"pool" must be one of io, cpu (got 1)'),
  badPing('ping-deep-nesting', 'POST /pings with JSON nested 100,000 deep and a bad message is parsed and refused for the message', { prefix: '{"message":5,"a":', repeat: '[', bytes: 17 + 100_000 + 100_001, suffix: ']'.repeat(100_000) + '}' }, BAD_MESSAGE),
  // POST /pings: encodings.
  badPing('ping-bom', 'POST /pings with a UTF-8 byte order mark before the JSON is refused as not JSON', '\uFEFF{"message":"x"}', NOT_JSON),
  badPing('ping-utf16', 'POST /pings with UTF-16LE JSON (charset=utf-16) is refused as not JSON: bodies are read as UTF-8', { base64: Buffer.from('{"message":"hi"}', 'utf16le').toString('base64') }, NOT_JSON, [['content-type', 'application/json; charset=utf-16']]),
  badPing('ping-non-utf8', 'POST /pings with bytes that are not UTF-8 (0xFF 0xFE) in place of a value is refused as not JSON', { base64: Buffer.concat([Buffer.from('{"message":'), Buffer.from([0xff, 0xfe]), Buffer.from('}')]).toString('base64') }, NOT_JSON),
  badPing(
    'ping-gzip',
    'POST /pings with a gzip body (Content-Encoding: gzip) is not decompressed, as API Gateway without content encoding, and is refused as not JSON',
    { base64: 'H4sIAAAAAAACA6tWyk0tLk5MT1WyUsrIVKoFADOU1r0QAAAA' },
    NOT_JSON,
    [JSON_TYPE, ['content-encoding', 'gzip']],
  ),
  // POST /pings: sizes.
  badPing('ping-body-5mb', 'POST /pings with a 5 MB message reaches the function and is refused: at most 200 characters', { prefix: '{"message":"', repeat: 'x', bytes: 5 * MiB, suffix: '"}' }, BAD_MESSAGE),
  {
    kind: 'http',
    id: 'ping-body-under-10mb',
    description: 'POST /pings with a body a bit under 10 MB answers 413 Request Too Long: its event is over Lambda\'s 6 MB (AWS\'s answer)',
    request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: { prefix: '{"message":"', repeat: 'x', bytes: 10 * MiB - 1024, suffix: '"}' } },
    expect: { status: 413, problem: 'Request Too Long', effects: NONE },
  },
  {
    kind: 'http',
    id: 'ping-body-over-10mb',
    description: 'POST /pings with an 11 MB body answers 413 "HTTP content length exceeded" (API Gateway\'s 10 MB limit, AWS\'s answer)',
    request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: { repeat: 'x', bytes: 11 * MiB } },
    expect: { status: 413, problem: 'HTTP content length exceeded 10485760 bytes.', effects: NONE },
  },

  // GET /pings/{id}: ids that are not UUIDs.
  { kind: 'http', id: 'ping-id-word', description: 'GET /pings/abc is refused: a ping id is a UUID', request: { method: 'GET', path: '/pings/abc' }, expect: { status: 400, problem: `${BAD_ID} such as 3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60 (got "abc")`, effects: NONE } },
  { kind: 'http', id: 'ping-id-long', description: 'GET /pings/ with a 3,000-character id is refused (it once failed the read: DynamoDB keys are under 2,048 bytes)', request: { method: 'GET', path: `/pings/${'a'.repeat(3000)}` }, expect: { status: 400, problem: BAD_ID, effects: NONE } },
  { kind: 'http', id: 'ping-id-nul', description: 'GET /pings/%00 (a NUL character) is refused: not a UUID', request: { method: 'GET', path: '/pings/%00' }, expect: { status: 400, problem: `${BAD_ID} such as 3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60 (got "\\u0000")`, effects: NONE } },
  { kind: 'http', id: 'ping-id-braces', description: 'GET /pings/{uuid} in braces is refused: not the UUID form', request: { method: 'GET', path: '/pings/%7B3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60%7D' }, expect: { status: 400, problem: BAD_ID, effects: NONE } },
  { kind: 'http', id: 'ping-id-injection', description: "GET /pings/1' OR '1'='1 is refused: not a UUID", request: { method: 'GET', path: "/pings/1'%20OR%20'1'='1" }, expect: { status: 400, problem: `${BAD_ID} such as 3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60 (got "1' OR '1'='1")`, effects: NONE } },
  { kind: 'http', id: 'ping-id-unknown', description: 'GET /pings/ with a UUID no ping has answers 404 naming it', request: { method: 'GET', path: '/pings/3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60' }, expect: { status: 404, problem: 'no ping 3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60', effects: NONE } },

  // Wrong methods and paths: API Gateway answers them itself, 403 "Missing Authentication Token" (AWS's answer, not a 404).
  missingToken('method-delete-reports', 'DELETE /reports answers 403 Missing Authentication Token (AWS\'s answer for an undeclared method)', 'DELETE', '/reports'),
  missingToken('method-put-pings', 'PUT /pings answers 403 Missing Authentication Token (AWS\'s answer)', 'PUT', '/pings'),
  missingToken('method-patch-ping', 'PATCH /pings/{id} answers 403 Missing Authentication Token (AWS\'s answer)', 'PATCH', '/pings/3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60'),
  missingToken('method-get-pings', 'GET /pings (only POST is declared) answers 403 Missing Authentication Token (AWS\'s answer)', 'GET', '/pings'),
  missingToken('method-post-health', 'POST /health answers 403 Missing Authentication Token (AWS\'s answer)', 'POST', '/health'),
  missingToken('method-options-report', 'OPTIONS on a report (no CORS is declared) answers 403 Missing Authentication Token (AWS\'s answer)', 'OPTIONS', '/reports/slow-blog-views'),
  missingToken('method-post-report', 'POST /reports/{name} (only GET is declared) answers 403 Missing Authentication Token (AWS\'s answer)', 'POST', '/reports/slow-blog-views'),
  missingToken('method-get-retry', 'GET …/retry (only POST is declared) answers 403 Missing Authentication Token (AWS\'s answer)', 'GET', '/reports/slow-blog-views/retry'),
  missingToken('path-unknown', 'GET /pingz, a path no resource declares, answers 403 Missing Authentication Token (AWS\'s answer)', 'GET', '/pingz'),
  {
    kind: 'http',
    id: 'method-head-bad-params',
    description: 'HEAD on a report with bad parameters answers the GET\'s 400 without a body (it once answered 404 "no handler")',
    request: { method: 'HEAD', path: `${SBV}?days=0` },
    expect: { status: 400, problem: /^$/, statusText: 'Bad Request', contentType: 'application/json', effects: NONE },
  },

  // Odd encodings in paths and query strings.
  badParams('enc-name-escaped', 'a report name with its dashes percent-encoded is the same report: its bad days=0 is what is refused', '/reports/slow%2Dblog%2Dviews?days=0', days('1 to 365', '0')),
  { kind: 'http', id: 'enc-name-double', description: 'a double-encoded report name is decoded once, as API Gateway does, and answered 404 naming what it became', request: { method: 'GET', path: '/reports/slow%252Dblog%252Dviews' }, expect: { status: 404, problem: 'no report "slow%2Dblog%2Dviews"', effects: NONE } },
  { kind: 'http', id: 'enc-slash', description: 'an encoded slash stays inside the report name and is answered 404 naming it', request: { method: 'GET', path: '/reports/slow-blog-views%2Fretry' }, expect: { status: 404, problem: 'no report "slow-blog-views/retry"', effects: NONE } },
  { kind: 'http', id: 'enc-bad-escape-path', description: 'a cut-off percent escape in the path (%E0%A4%A) answers 400 naming the malformed encoding', request: { method: 'GET', path: '/reports/%E0%A4%A' }, expect: { status: 400, problem: 'malformed percent-encoding in path /prod/reports/%E0%A4%A', effects: NONE } },
  { kind: 'http', id: 'enc-non-utf8-path', description: 'a percent-escape that is not UTF-8 (%FF) in the path answers 400 naming the malformed encoding', request: { method: 'GET', path: '/reports/%FF' }, expect: { status: 400, problem: 'malformed percent-encoding in path /prod/reports/%FF', effects: NONE } },
  {
    kind: 'http',
    id: 'enc-raw-byte-path',
    description: 'a raw byte 0xFF in the path is refused by the HTTP parser with 400, before any function runs',
    request: { method: 'GET', path: '/pings/\u00ff' },
    expect: { status: 400, problem: /^$/, statusText: 'Bad Request', effects: NONE },
  },
  badParams('enc-param-name', 'a percent-encoded parameter name (%64ays) is decoded: its bad value is refused naming days', `${SBV}?%64ays=0`, days('1 to 365', '0')),
  badParams('enc-value-double', 'a double-encoded value (%2537) is decoded once and refused as "%37"', `${SBV}?days=%2537`, days('1 to 365', '%37')),
  badParams('enc-bad-escape-query', 'an invalid escape in the query (%ZZ) is kept as written and refused naming days', `${SBV}?days=%ZZ`, days('1 to 365', '%ZZ')),
  badParams('enc-non-utf8-query', 'a parameter name that is not UTF-8 (%FF) becomes U+FFFD and is refused as unknown', `${SBV}?%FF=1`, 'unknown parameter "\uFFFD"'),

  // Unicode in parameters, names and messages.
  badParams('uni-nul-in-int', 'days=7 followed by a NUL character is refused: not an integer', `${SBV}?days=7%00`, days('1 to 365', '7\u0000')),
  badParams('uni-fullwidth-digit', 'days=７ (a fullwidth digit) is refused: only ASCII digits are integers', `${SU}?days=%EF%BC%97`, days('1 to 365', '７')),
  badParams('uni-arabic-digit', 'limit=٥ (an Arabic-Indic digit) is refused: only ASCII digits are integers', `${SU}?limit=%D9%A5`, '"limit" must be an integer from 1 to 100 (got "٥")'),
  badParams('uni-emoji-param-name', 'a parameter named with an emoji is refused as unknown, naming it', `${SU}?%F0%9F%93%85=7`, 'unknown parameter "📅"'),
  { kind: 'http', id: 'uni-rtl-report-name', description: 'a report name with a right-to-left override is answered 404 naming it as given', request: { method: 'GET', path: '/reports/%E2%80%AEsweiv-golb-wols' }, expect: { status: 404, problem: 'no report "\u202Esweiv-golb-wols"', effects: NONE } },
  badPing('uni-emoji-message-long', 'POST /pings with a message of 201 "é" and emoji is refused: over 200 characters', JSON.stringify({ message: `${'é'.repeat(199)}🚀🚀` }), BAD_MESSAGE),

  // Header tricks.
  {
    kind: 'http',
    id: 'hdr-accept-twice-json-last',
    description: 'Accept sent twice (text/html, then application/json): the last wins, as in API Gateway\'s headers, so the 400 is JSON',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['accept', 'text/html'], ['accept', 'application/json']] },
    expect: { status: 400, problem: days('1 to 365', '0'), contentType: 'application/json', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-accept-twice-html-last',
    description: 'Accept sent twice (application/json, then text/html): the last wins, so the 400 is the page naming days',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['accept', 'application/json'], ['accept', 'text/html']] },
    expect: { status: 400, problem: '<code>days</code>: &quot;days&quot; must be an integer from 1 to 365 (got &quot;0&quot;)', contentType: 'text/html', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-accept-upper',
    description: 'Accept: TEXT/HTML;q=0.9 (upper case, with a weight) is a browser: the 400 is the page naming minResponseMs',
    request: { method: 'GET', path: `${SBV}?minResponseMs=x`, headers: [['accept', 'TEXT/HTML;q=0.9']] },
    expect: { status: 400, problem: '<code>minResponseMs</code>: &quot;minResponseMs&quot; must be an integer from 0 to 600000', contentType: 'text/html', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-accept-xml',
    description: 'Accept: application/xml (not offered) gets the JSON 400, not a 406',
    request: { method: 'GET', path: `${SU}?limit=0`, headers: [['accept', 'application/xml']] },
    expect: { status: 400, problem: '"limit" must be an integer from 1 to 100 (got "0")', contentType: 'application/json', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-accept-garbage',
    description: 'a garbled Accept (";;;,,q=x") gets the JSON 400',
    request: { method: 'GET', path: `${SU}?limit=0`, headers: [['accept', ';;;,,q=x']] },
    expect: { status: 400, problem: '"limit" must be an integer from 1 to 100 (got "0")', contentType: 'application/json', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-if-none-match-garbage',
    description: 'a garbage If-None-Match on bad parameters still gets the 400, not a 304',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['if-none-match', '"\u00ff"garbage, W/']] },
    expect: { status: 400, problem: days('1 to 365', '0'), effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-if-none-match-star',
    description: 'If-None-Match: * on an unknown report still gets the 404 naming it',
    request: { method: 'GET', path: '/reports/nope', headers: [['if-none-match', '*']] },
    expect: { status: 404, problem: 'no report "nope"', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-long-8kb',
    description: 'an 8 KB header is passed along: the bad days=0 is what is refused',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['x-padding', 'p'.repeat(8 * 1024)]] },
    expect: { status: 400, problem: days('1 to 365', '0'), effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-long-20kb',
    description: 'a 20 KB header is refused by the HTTP parser with 431 before any function runs (API Gateway\'s own limit is 10 KB)',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['x-padding', 'p'.repeat(20 * 1024)]] },
    expect: { status: 431, problem: /^$/, statusText: 'Request Header Fields Too Large', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-forwarded-spoof',
    description: 'spoofed Host and X-Forwarded-* headers change no link: GET /reports lists hrefs under /prod only',
    request: {
      method: 'GET',
      path: '/reports',
      headers: [['host', 'evil.example'], ['x-forwarded-host', 'evil.example'], ['x-forwarded-proto', 'gopher'], ['x-forwarded-prefix', '/evil.example'], ['x-forwarded-for', '1.2.3.4, evil.example']],
    },
    expect: { status: 200, problem: '"href":"/prod/reports/slow-blog-views"', bodyExcludes: 'evil.example', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-method-override',
    description: 'X-HTTP-Method-Override: DELETE is ignored: the GET with days=0 is refused as a GET',
    request: { method: 'GET', path: `${SBV}?days=0`, headers: [['x-http-method-override', 'DELETE']] },
    expect: { status: 400, problem: days('1 to 365', '0'), effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-content-length-conflict',
    description: 'two different Content-Length headers are refused by the HTTP parser with 400 before any function runs',
    request: { method: 'POST', path: '/pings', headers: [JSON_TYPE, ['content-length', '2'], ['content-length', '3']], body: '{}' },
    expect: { status: 400, problem: /^$/, statusText: 'Bad Request', effects: NONE },
  },
  {
    kind: 'http',
    id: 'hdr-content-length-short',
    description: 'a Content-Length shorter than the body cuts the body there ("{\\"mes" is refused as not JSON); the bytes after it are read as the next request, not as this one\'s body',
    request: { method: 'POST', path: '/pings', headers: [JSON_TYPE, ['content-length', '5'], ['connection', 'keep-alive']], body: '{"mesGET /prod/pingz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n' },
    expect: { status: 400, problem: NOT_JSON, effects: NONE },
  },

  // Odd but valid: accepted, and stored exactly as sent.
  { kind: 'http', id: 'ok-ping-emoji', description: 'a ping message with emoji and a skin-tone modifier is accepted and reads back exactly', request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: JSON.stringify({ message: 'hello 👋🏽 ✈️ 🚀' }) }, expect: { status: 202, problem: '"status":"queued"', effects: { kind: 'ping', message: 'hello 👋🏽 ✈️ 🚀' } } },
  { kind: 'http', id: 'ok-ping-rtl', description: 'a right-to-left ping message with an override character is accepted and reads back exactly', request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: JSON.stringify({ message: 'مرحبا \u202Eabc\u202C שלום' }) }, expect: { status: 202, problem: '"status":"queued"', effects: { kind: 'ping', message: 'مرحبا \u202Eabc\u202C שלום' } } },
  { kind: 'http', id: 'ok-ping-control', description: 'a ping message with NUL and control characters (JSON-escaped) is accepted and reads back exactly', request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: JSON.stringify({ message: 'a\u0000b\u0007c\u001b[31m\r\n\t' }) }, expect: { status: 202, problem: '"status":"queued"', effects: { kind: 'ping', message: 'a\u0000b\u0007c\u001b[31m\r\n\t' } } },
  { kind: 'http', id: 'ok-ping-no-message', description: 'a ping without a message is accepted with the default message "ping"', request: { method: 'POST', path: '/pings', headers: [JSON_TYPE], body: '{}' }, expect: { status: 202, problem: '"message":"ping"', effects: { kind: 'ping', message: 'ping' } } },
  {
    kind: 'http',
    id: 'ok-report-emoji',
    description: 'a report asked with an emoji in urlContains is accepted and enqueued (it once failed with 500: its job could not be sent)',
    request: { method: 'GET', path: `${SBV}?days=1&urlContains=%F0%9F%90%A2` },
    expect: { status: 202, problem: '"urlContains":"🐢"', effects: { kind: 'report-refresh' } },
  },
  {
    kind: 'http',
    id: 'ok-report-noncharacter',
    description: 'a report asked with U+FFFF in urlContains is accepted and enqueued (it once failed with 500: SQS refuses U+FFFF in a body)',
    request: { method: 'GET', path: `${SU}?days=1&urlContains=%EF%BF%BF` },
    expect: { status: 202, problem: '"urlContains":"\uFFFF"', effects: { kind: 'report-refresh' } },
  },
];

export const sqsCases: readonly SqsCase[] = [
  // Bodies that are no envelope at all.
  { kind: 'sqs', id: 'sqs-not-json', description: 'a body that is not JSON goes to the DLQ as poison', queue: 'io', body: 'this is not JSON', expect: poison('body is not JSON') },
  { kind: 'sqs', id: 'sqs-truncated-json', description: 'JSON cut short goes to the DLQ as poison', queue: 'io', body: '{"v":1,"jobId":', expect: poison('body is not JSON') },
  { kind: 'sqs', id: 'sqs-bom', description: 'an envelope after a byte order mark is not JSON: poison', queue: 'io', body: `\uFEFF${envelope(1)}`, expect: poison('body is not JSON') },
  { kind: 'sqs', id: 'sqs-array', description: 'a JSON array (of envelopes) goes to the DLQ as poison: the body must be one object', queue: 'io', body: `[${envelope(2)}]`, expect: poison('body is not a JSON object') },
  { kind: 'sqs', id: 'sqs-null', description: 'JSON null goes to the DLQ as poison', queue: 'io', body: 'null', expect: poison('body is not a JSON object') },
  { kind: 'sqs', id: 'sqs-string', description: 'a JSON string naming a task goes to the DLQ as poison', queue: 'io', body: '"demo.ping"', expect: poison('body is not a JSON object') },
  { kind: 'sqs', id: 'sqs-number-cpu', description: 'a JSON number on the cpu pool goes to the cpu DLQ as poison', queue: 'cpu', body: '42', expect: poison('body is not a JSON object') },
  // Versions.
  { kind: 'sqs', id: 'sqs-empty-object', description: 'an empty object has no version: poison naming it', queue: 'io', body: '{}', expect: poison('unsupported version undefined (this worker reads version 1)') },
  { kind: 'sqs', id: 'sqs-version-2', description: 'an envelope of version 2 goes to the DLQ as poison naming the version', queue: 'io', body: envelope(3, { v: 2 }), expect: poison('unsupported version 2 (this worker reads version 1)') },
  { kind: 'sqs', id: 'sqs-version-string', description: 'version "1" (a string) is not version 1: poison', queue: 'io', body: envelope(4, { v: '1' }), expect: poison('unsupported version "1" (this worker reads version 1)') },
  {
    kind: 'sqs',
    id: 'sqs-version-huge',
    description: 'a 600 KB version goes to the DLQ as poison, named cut short (it once made a reason too big to send beside the body)',
    queue: 'io',
    body: { prefix: '{"v":"', repeat: 'v', bytes: 600_000, suffix: '"}' },
    expect: poison(`unsupported version "${'v'.repeat(59)}… (this worker reads version 1)`),
  },
  // Missing fields and bad types.
  { kind: 'sqs', id: 'sqs-missing-jobId', description: 'an envelope without jobId goes to the DLQ as poison naming the field', queue: 'io', body: envelope(5, { jobId: undefined }), expect: poison('field "jobId" must be a non-empty string') },
  { kind: 'sqs', id: 'sqs-missing-task', description: 'an envelope without task goes to the DLQ as poison naming the field', queue: 'io', body: envelope(6, { task: undefined }), expect: poison('field "task" must be a non-empty string') },
  { kind: 'sqs', id: 'sqs-missing-enqueuedAt', description: 'an envelope without enqueuedAt goes to the DLQ as poison naming the field', queue: 'io', body: envelope(7, { enqueuedAt: undefined }), expect: poison('field "enqueuedAt" must be a non-empty string') },
  { kind: 'sqs', id: 'sqs-missing-traceId', description: 'an envelope without traceId goes to the DLQ as poison naming the field', queue: 'io', body: envelope(8, { traceId: undefined }), expect: poison('field "traceId" must be a non-empty string') },
  { kind: 'sqs', id: 'sqs-missing-attempt', description: 'an envelope without attempt goes to the DLQ as poison naming the field', queue: 'io', body: envelope(9, { attempt: undefined }), expect: poison('field "attempt" must be a whole number >= 1') },
  { kind: 'sqs', id: 'sqs-missing-tracked', description: 'an envelope without tracked goes to the DLQ as poison naming the field', queue: 'io', body: envelope(10, { tracked: undefined }), expect: poison('field "tracked" must be a boolean') },
  { kind: 'sqs', id: 'sqs-jobId-number', description: 'a numeric jobId goes to the DLQ as poison: it must be a string', queue: 'io', body: envelope(11, { jobId: 11 }), expect: poison('field "jobId" must be a non-empty string') },
  { kind: 'sqs', id: 'sqs-attempt-string', description: 'attempt "1" (a string) goes to the DLQ as poison', queue: 'io', body: envelope(12, { attempt: '1' }), expect: poison('field "attempt" must be a whole number >= 1') },
  { kind: 'sqs', id: 'sqs-attempt-zero', description: 'attempt 0 goes to the DLQ as poison: attempts count from 1', queue: 'io', body: envelope(13, { attempt: 0 }), expect: poison('field "attempt" must be a whole number >= 1') },
  { kind: 'sqs', id: 'sqs-tracked-string', description: 'tracked "true" (a string) goes to the DLQ as poison', queue: 'io', body: envelope(14, { tracked: 'true' }), expect: poison('field "tracked" must be a boolean') },
  { kind: 'sqs', id: 'sqs-enqueuedAt-word', description: 'enqueuedAt "yesterday" goes to the DLQ as poison: it must be an ISO-8601 time', queue: 'io', body: envelope(15, { enqueuedAt: 'yesterday' }), expect: poison('field "enqueuedAt" must be an ISO-8601 time') },
  {
    kind: 'sqs',
    id: 'sqs-enqueuedAt-huge',
    description: 'a 500 KB enqueuedAt on a tracked job goes to the DLQ as poison, before a job record too big to write',
    queue: 'io',
    body: envelope(39, { enqueuedAt: `2026-01-02T03:04:05.678Z${' '.repeat(500_000)}` }),
    expect: poison('field "enqueuedAt" must be an ISO-8601 time'),
  },
  { kind: 'sqs', id: 'sqs-notBefore-word', description: 'notBefore "tomorrow" goes to the DLQ as poison: it must be an ISO-8601 time', queue: 'io', body: envelope(16, { notBefore: 'tomorrow' }), expect: poison('field "notBefore" must be an ISO-8601 time') },
  { kind: 'sqs', id: 'sqs-notBefore-number', description: 'notBefore as epoch milliseconds goes to the DLQ as poison', queue: 'io', body: envelope(17, { notBefore: 1_900_000_000_000 }), expect: poison('field "notBefore" must be an ISO-8601 time') },
  { kind: 'sqs', id: 'sqs-workflow-string', description: 'a workflow field that is a string goes to the DLQ as poison naming its shape', queue: 'io', body: envelope(18, { workflow: 'wf-1' }), expect: poison('field "workflow" must be { workflowId: string, nodeId: string }') },
  { kind: 'sqs', id: 'sqs-workflow-no-node', description: 'a workflow field without nodeId goes to the DLQ as poison', queue: 'io', body: envelope(19, { workflow: { workflowId: 'wf-1' } }), expect: poison('field "workflow" must be { workflowId: string, nodeId: string }') },
  {
    kind: 'sqs',
    id: 'sqs-jobId-huge',
    description: 'a 3,000-byte jobId goes to the DLQ as poison (it once failed every delivery: too long to key the job record)',
    queue: 'io',
    body: envelope(20, { jobId: `${'j'.repeat(3000)}-20`, task: 'no.such.task' }),
    expect: poison('field "jobId" must be at most 1024 bytes'),
  },
  {
    kind: 'sqs',
    id: 'sqs-traceId-huge',
    description: 'a 500 KB traceId on a tracked job goes to the DLQ as poison, before a job record too big to write',
    queue: 'io',
    body: envelope(21, { traceId: 't'.repeat(500_000) }),
    expect: poison('field "traceId" must be at most 1024 bytes'),
  },
  // Task names.
  { kind: 'sqs', id: 'sqs-unknown-task', description: 'an unknown task goes to the DLQ as non-retryable, naming it and the known tasks', queue: 'io', body: envelope(22, { task: 'no.such.task' }), expect: { kind: 'dead-letter', cause: 'non-retryable', errorName: 'UnknownTaskError', errorMessage: 'no task "no.such.task" is registered on this worker (known: demo.ping, ', task: 'no.such.task', attempts: 1 } },
  { kind: 'sqs', id: 'sqs-unknown-task-cpu', description: 'an unknown task on the cpu pool goes to the cpu DLQ as non-retryable', queue: 'cpu', body: envelope(23, { task: 'billing.send-invoice', tracked: false }), expect: { kind: 'dead-letter', cause: 'non-retryable', errorName: 'UnknownTaskError', errorMessage: 'no task "billing.send-invoice" is registered on this worker', task: 'billing.send-invoice', attempts: 1 } },
  {
    kind: 'sqs',
    id: 'sqs-task-emoji',
    description: 'a task named with an emoji and an accent (JSON-escaped) goes to the DLQ as poison (it once failed every delivery)',
    queue: 'io',
    body: envelope(24, { task: 'café.🚀' }),
    expect: poison('field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got "café.\\ud83d\\ude80")'),
  },
  { kind: 'sqs', id: 'sqs-task-space', description: 'a task named "demo ping" (with a space) goes to the DLQ as poison (it once failed every delivery)', queue: 'io', body: envelope(25, { task: 'demo ping' }), expect: poison('field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got "demo ping")') },
  { kind: 'sqs', id: 'sqs-task-noncharacter', description: 'a task name holding U+FFFF goes to the DLQ as poison, named with U+FFFF escaped', queue: 'io', body: envelope(26, { task: 'demo.ping\uffff' }), expect: poison('field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got "demo.ping\\uffff")') },
  { kind: 'sqs', id: 'sqs-task-huge', description: 'a 500 KB task name goes to the DLQ as poison, named cut short', queue: 'io', body: envelope(27, { task: 'x'.repeat(500_000) }), expect: poison(`field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got "${'x'.repeat(59)}…)`) },
  // Input that fails the task's schema, or names nothing.
  { kind: 'sqs', id: 'sqs-ping-bad-uuid', description: 'demo.ping with a pingId that is not a UUID goes to the DLQ as non-retryable, naming the field', queue: 'io', body: envelope(28, { input: { pingId: 'not-a-uuid' } }), expect: badInput('demo.ping', 'pingId: Invalid UUID') },
  { kind: 'sqs', id: 'sqs-ping-no-input', description: 'demo.ping without input goes to the DLQ as non-retryable', queue: 'io', body: envelope(29, { input: undefined }), expect: badInput('demo.ping', '(input): Invalid input: expected object, received undefined') },
  { kind: 'sqs', id: 'sqs-ping-array-input', description: 'demo.ping with an array as input goes to the DLQ as non-retryable', queue: 'io', body: envelope(30, { input: ['9a1c0000-0000-4000-8000-000000000030'] }), expect: badInput('demo.ping', '(input): Invalid input: expected object, received array') },
  {
    kind: 'sqs',
    id: 'sqs-ping-unknown',
    description: 'demo.ping naming a ping that does not exist goes to the DLQ as non-retryable PingNotFoundError',
    queue: 'io',
    body: envelope(31),
    expect: { kind: 'dead-letter', cause: 'non-retryable', errorName: 'PingNotFoundError', errorMessage: 'no ping 9a1c0000-0000-4000-8000-000000000031 exists', task: 'demo.ping', attempts: 1 },
  },
  {
    kind: 'sqs',
    id: 'sqs-partition-bad-input',
    description: 'report.partition with a numeric day and no params goes to the DLQ as non-retryable, naming each field',
    queue: 'io',
    body: envelope(32, { task: 'report.partition', input: { report: 'slow-blog-views', day: 3 } }),
    expect: badInput('report.partition', 'params: Invalid input: expected record, received undefined; day: Invalid input: expected string, received number; window: Invalid input: expected object, received undefined'),
  },
  { kind: 'sqs', id: 'sqs-finish-bad-input', description: 'report.finish with an object for its [partials, context] goes to the DLQ as non-retryable', queue: 'io', body: envelope(33, { task: 'report.finish', input: { partials: [] } }), expect: badInput('report.finish', '(input): Invalid input: expected tuple, received object') },
  {
    kind: 'sqs',
    id: 'sqs-report-start-bad-input',
    description: 'an untracked report start job with a string token goes to the DLQ as non-retryable',
    queue: 'io',
    body: envelope(34, { task: 'report.slow-blog-views', tracked: false, input: { key: 'k', token: 'x' } }),
    expect: badInput('report.slow-blog-views', 'token: Invalid input: expected number, received string; params: Invalid input: expected object, received undefined'),
  },
  {
    kind: 'sqs',
    id: 'sqs-partition-unknown-report',
    description: 'report.partition for a report that is not registered goes to the DLQ at once: retrying cannot help',
    queue: 'io',
    body: envelope(35, { task: 'report.partition', input: { report: 'no-such-report', params: {}, day: '2026-01-01', window: { fromMs: 0, toMs: 1 } } }),
    expect: { kind: 'dead-letter', cause: 'non-retryable', errorName: 'UnknownReportError', errorMessage: 'no report "no-such-report" is registered', task: 'report.partition', attempts: 1 },
  },
  { kind: 'sqs', id: 'sqs-attempt-million', description: 'attempt 1,000,000 with bad input goes to the DLQ as non-retryable, counting that attempt', queue: 'io', body: envelope(36, { attempt: 1_000_000, input: {} }), expect: badInput('demo.ping', 'pingId: Invalid input: expected string, received undefined', 1_000_000) },
  // Sizes: SQS's limit is 1 MiB (the old 256 KB no longer applies).
  {
    kind: 'sqs',
    id: 'sqs-input-300kb',
    description: 'a 300 KB envelope (over the old 256 KB limit) whose input fails the schema goes to the DLQ as non-retryable',
    queue: 'io',
    body: envelope(37, { input: { pingId: 'p'.repeat(300_000) } }),
    expect: badInput('demo.ping', 'pingId: Invalid UUID'),
  },
  { kind: 'sqs', id: 'sqs-near-limit', description: 'a body 1 KiB under 1 MiB that is not JSON goes to the DLQ as poison, its reason beside it', queue: 'io', body: { repeat: 'n', bytes: 1_048_576 - 1024 }, expect: poison('body is not JSON') },
  {
    kind: 'sqs',
    id: 'sqs-at-limit',
    description: 'a body of exactly 1 MiB that is not JSON goes to the DLQ as poison',
    queue: 'io',
    body: { repeat: 'a', bytes: 1_048_576 },
    expect: poison('body is not JSON'),
  },
  { kind: 'sqs', id: 'sqs-over-limit', description: 'a body one byte over 1 MiB is refused by SQS itself: nothing reaches a worker', queue: 'io', body: { repeat: 'o', bytes: 1_048_577 }, expect: { kind: 'refused', errorName: /InvalidParameterValue/, errorMessage: 'Message must be shorter than 1048576 bytes' } },
  // Workflow membership.
  {
    kind: 'sqs',
    id: 'sqs-workflow-unknown',
    description: 'a member of a workflow that does not exist, with input failing the schema, goes to the DLQ as non-retryable',
    queue: 'io',
    body: envelope(38, { input: { pingId: 'nope' }, workflow: { workflowId: '0f0f0000-0000-4000-8000-000000000038', nodeId: 'n1' } }),
    expect: badInput('demo.ping', 'pingId: Invalid UUID'),
  },
];

export const corpus: readonly BadInputCase[] = [...httpCases, ...sqsCases];
