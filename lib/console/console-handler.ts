/**
 * Ferry's Flower, the operations console: HTML pages of one Lambda function
 * behind API Gateway (REST proxy integration), mounted at `/_ferry/console`
 * and `/_ferry/console/{proxy+}`:
 *
 *   GET  /                          overview: queues, heartbeats, schedules, look-up forms
 *   GET  /queues/{queue}            counts and dead letters with their reasons
 *   POST /queues/{queue}/redrive    one dead letter (`messageId`) or all, back to the queue
 *   GET  /jobs?status=&task=        recent jobs, from a bounded Scan
 *   GET  /jobs/{id}                 one job;  POST /jobs/{id}/cancel
 *   GET  /workflows/{id}            its tree; POST /workflows/{id}/cancel
 *   GET  /flights/{key}             a single-flight key; POST /flights/{key}/refresh
 *   GET  /schedules                 schedules found by a bounded Scan
 *   GET  /lookup?job=|workflow=|flight=   303 to that page
 *
 * An action answers 303 See Other back to its page with `?notice=` saying what
 * it did. Links are relative to the page, so the console works under any
 * stage path or custom domain; ids and keys are percent-encoded in links
 * (a key may hold `/`: the rest of the path is the key).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { headerOf, htmlResponse } from '../http/html.js';
import { HttpError } from '../http/rest-api.js';
import { JobNotCancellableError, JobNotFoundError } from '../jobs/errors.js';
import { JobStatus, NOT_FOUND } from '../jobs/job-state.js';
import { log as defaultLog, logContext, type LogSink } from '../util/log.js';
import { WorkflowNotFoundError } from '../workflows/workflow-engine.js';
import { InvalidScheduleExpressionError, parseScheduleExpression, type ScheduleExpression } from '../app/schedule-expression.js';
import * as data from './console-data.js';
import * as pages from './console-pages.js';
import type { PageContext } from './console-pages.js';

/**
 * A schedule the console shows: a periodic's name (`periodic({ name })`), or
 * a declared schedule (`app.schedules` gives them) whose EventBridge
 * expression also tells the next run.
 */
export type ConsoleSchedule = string | { readonly name: string; readonly expression: string | ScheduleExpression };

export interface ConsoleOptions {
  /**
   * The app's schedules, shown on the overview (the console cannot list them
   * without reading the whole table): `app.schedules` for every declared one,
   * with its next run; or periodic names alone.
   * @default none (the schedules page finds them by a bounded scan)
   */
  readonly schedules?: readonly ConsoleSchedule[];
  /** Pages (at most 1 MB each) the bounded Scan of the jobs and schedules pages reads. 1 to 100. @default 4 */
  readonly scanPages?: number;
  /** Jobs the jobs page lists at most. 1 to 5000. @default 200 */
  readonly jobRows?: number;
  /** Dead letters the queue page lists at most. 1 to 1000. @default 100 */
  readonly deadLetters?: number;
  /** Dead letters one "Redrive all" moves at most (an invocation has a time limit; press again for more). 1 to 100000. @default 1000 */
  readonly redriveMax?: number;
  /** Clock in epoch milliseconds (the pages' "ago"). @default Date.now */
  readonly now?: () => number;
  /** Where a failed request is logged. @default JSON lines on stdout (lib/util/log.ts) */
  readonly log?: LogSink;
}

export const CONSOLE_DEFAULTS = {
  schedules: [] as readonly ConsoleSchedule[],
  scanPages: 4,
  jobRows: 200,
  deadLetters: 100,
  redriveMax: 1000,
  /** Heartbeat canaries per queue on the overview's chart. */
  heartbeatSamples: 60,
} as const;

/** A console option out of its range. */
export class InvalidConsoleOptionError extends RangeError {
  override readonly name = 'InvalidConsoleOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    range: string,
  ) {
    super(`createConsoleHandler: ${option} must be ${range} (got ${String(value)})`);
  }
}

interface Settings {
  readonly schedules: readonly data.ScheduleSpec[];
  readonly scanPages: number;
  readonly jobRows: number;
  readonly deadLetters: number;
  readonly redriveMax: number;
  readonly now: () => number;
  readonly log: LogSink;
}

function settingsOf(options: ConsoleOptions): Settings {
  const whole = (option: 'scanPages' | 'jobRows' | 'deadLetters' | 'redriveMax', max: number): number => {
    const value = options[option] ?? CONSOLE_DEFAULTS[option];
    if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidConsoleOptionError(option, value, `a whole number from 1 to ${max}`);
    return value;
  };
  const schedules = (options.schedules ?? CONSOLE_DEFAULTS.schedules).map((schedule): data.ScheduleSpec => {
    const wrong = () => new InvalidConsoleOptionError('schedules', JSON.stringify(schedule), 'a list of non-empty schedule names or { name, expression } (app.schedules)');
    if (typeof schedule === 'string') {
      if (schedule === '') throw wrong();
      return { name: schedule };
    }
    if (typeof schedule?.name !== 'string' || schedule.name === '') throw wrong();
    try {
      return { name: schedule.name, expression: typeof schedule.expression === 'string' ? parseScheduleExpression(schedule.expression) : schedule.expression };
    } catch (error) {
      if (error instanceof InvalidScheduleExpressionError) throw new InvalidConsoleOptionError('schedules', JSON.stringify(schedule), `names or { name, expression } with a valid expression: ${error.message}`);
      throw error;
    }
  });
  return {
    schedules,
    scanPages: whole('scanPages', 100),
    jobRows: whole('jobRows', 5_000),
    deadLetters: whole('deadLetters', 1_000),
    redriveMax: whole('redriveMax', 100_000),
    now: options.now ?? (() => Date.now()),
    log: options.log ?? defaultLog,
  };
}

/**
 * Where the console's root is relative to the page asked for. The mount is
 * the resource without its `{proxy+}` (`/_ferry/console`); the rest of the
 * request's path (still percent-encoded, as API Gateway's REST API passes it)
 * says how deep the page is. Without a trailing slash the root itself sits in
 * its parent's directory, so its links go through its last segment.
 */
export function pageBase(event: Pick<APIGatewayProxyEvent, 'path' | 'resource' | 'pathParameters'>): { readonly base: string; readonly overview: string } {
  const mount = (event.resource ?? '').replace(/\/\{[^}]+\+\}$/, '').replace(/\/$/, '');
  const last = mount.split('/').filter((s) => s !== '').pop() ?? '';
  const path = event.path ?? '';
  let rest: string;
  const at = mount === '' ? -1 : path.indexOf(mount);
  if (at >= 0 && (path.length === at + mount.length || path[at + mount.length] === '/')) {
    rest = path.slice(at + mount.length);
  } else {
    // A path that does not show the mount (an unusual integration): the proxy parameter tells the depth.
    const proxy = event.pathParameters?.proxy;
    rest = proxy === undefined ? '' : `/${proxy}`;
  }
  const depth = (rest.match(/\//g) ?? []).length;
  if (depth === 0) return { base: last === '' ? '' : `${last}/`, overview: last === '' ? './' : last };
  const base = '../'.repeat(depth - 1);
  return { base, overview: last === '' ? base || './' : `${base}../${last}` };
}

/** The body of a form post (application/x-www-form-urlencoded), base64 or not. */
function formBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): URLSearchParams {
  if (event.body === null || event.body === undefined || event.body === '') return new URLSearchParams();
  return new URLSearchParams(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
}

function see(location: string): APIGatewayProxyResult {
  return { statusCode: 303, headers: { location, 'cache-control': 'no-store', 'content-type': 'text/plain; charset=utf-8' }, body: `See ${location}` };
}

/** A page to go back to after an action, with what the action did. */
function back(ctx: PageContext, parts: readonly string[], notice: { readonly text: string; readonly problem: boolean }): APIGatewayProxyResult {
  const query = new URLSearchParams({ notice: notice.text });
  if (notice.problem) query.set('tone', 'problem');
  return see(`${pages.consoleHref(ctx, ...parts)}?${query.toString()}`);
}

class MethodNotAllowedError extends HttpError {
  constructor(
    readonly allow: 'GET' | 'POST',
    method: string,
    path: string,
  ) {
    super(405, `${method} is not allowed on ${path}: use ${allow}${allow === 'POST' ? ' (the page\'s button sends it)' : ''}`);
  }
}

/** The queue `id` of this function's environment; 404 naming the variable when it has none. */
function queueOrFail(id: string): data.ConsoleQueue {
  const queue = data.consoleQueue(id);
  if (queue === undefined) {
    const known = data.consoleQueues().map((q) => q.id);
    throw new HttpError(404, `no queue "${id}" in this function's environment (its URL variable is not set); declare it under the console function's uses.queues. Known: ${known.join(', ') || 'none'}`);
  }
  return queue;
}

const STATUSES = Object.values(JobStatus) as readonly string[];

/**
 * The console's Lambda handler. Reads only what the platform stores and what
 * SQS reports; its actions are those of the `ferry` operations commands.
 */
export function createConsoleHandler(options: ConsoleOptions = {}): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  const settings = settingsOf(options);

  return async (event, context) => {
    if (context !== undefined && options.log === undefined) logContext(context);
    const { base, overview } = pageBase(event);
    const query = event.queryStringParameters ?? {};
    const noticeText = query.notice;
    const ctx: PageContext = {
      base,
      overview,
      now: settings.now(),
      ...(noticeText !== undefined && noticeText !== '' && { notice: { text: noticeText.slice(0, 500), problem: query.tone === 'problem' } }),
    };
    const method = event.httpMethod === 'HEAD' ? 'GET' : event.httpMethod;
    const proxy = event.pathParameters?.proxy ?? '';
    try {
      if (method === 'POST' && headerOf(event, 'sec-fetch-site') === 'cross-site') {
        throw new HttpError(403, 'a form of another site may not act on the console');
      }
      return await route(settings, ctx, method, proxy, event);
    } catch (error) {
      if (error instanceof HttpError) {
        const headers: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allow } : {};
        return htmlResponse(error.status, pages.consoleErrorPage(ctx, error.status, error.message), headers);
      }
      settings.log({ level: 'error', msg: 'console request failed', method: event.httpMethod, path: event.path, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
      return htmlResponse(500, pages.consoleErrorPage(ctx, 500, `${data.messageOf(error)} (request ${event.requestContext?.requestId ?? 'unknown'}; the function's log has the details)`));
    }
  };
}

async function route(settings: Settings, ctx: PageContext, method: string, proxy: string, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const slash = proxy.indexOf('/');
  const head = slash < 0 ? proxy : proxy.slice(0, slash);
  // Everything after the first segment: an id or key may itself hold `/`.
  const tail = slash < 0 ? '' : proxy.slice(slash + 1);
  const where = `/${proxy}`;
  const only = (allowed: 'GET' | 'POST') => {
    if (method !== allowed) throw new MethodNotAllowedError(allowed, event.httpMethod, where);
  };
  /** `{id}/{action}` of a POST; a GET names the page of `tail`. */
  const action = (name: string): string | undefined => (tail.endsWith(`/${name}`) ? tail.slice(0, -name.length - 1) : undefined);

  switch (head) {
    case '':
      only('GET');
      return htmlResponse(200, pages.overviewPage(ctx, await overviewData(settings, ctx.now)));

    case 'queues': {
      const id = tail.replace(/\/$/, '');
      const redriven = action('redrive');
      if (redriven !== undefined) {
        only('POST');
        const queue = queueOrFail(redriven);
        if (queue.deadLetterUrl === undefined) throw new HttpError(400, `queue "${queue.id}" has no dead-letter queue in this function's environment: nothing to redrive`);
        const messageId = formBody(event).get('messageId') ?? undefined;
        const done = await data.redriveFromConsole(queue.id, messageId === '' ? undefined : messageId, settings.redriveMax);
        return back(ctx, ['queues', queue.id], { text: done.notice, problem: messageId !== undefined && messageId !== '' && done.moved === 0 });
      }
      if (id === '' || id.includes('/')) throw new HttpError(404, `no console page ${where}: a queue's page is queues/<queue id>`);
      only('GET');
      const queue = queueOrFail(id);
      const [stats, ages, deadLetters] = await Promise.all([
        data.queueStats(queue),
        data.oldestMessageAges([queue], settings.now()),
        queue.deadLetterUrl === undefined ? undefined : data.queueDeadLetters(queue.id, settings.deadLetters),
      ]);
      return htmlResponse(200, pages.queuePage(ctx, { stats, ages, ...(deadLetters !== undefined && { deadLetters }), listMax: settings.deadLetters }));
    }

    case 'jobs': {
      if (tail === '' || tail === '/') {
        only('GET');
        const status = query(event, 'status');
        if (status !== undefined && !STATUSES.includes(status)) throw new HttpError(400, `status must be one of ${STATUSES.join(', ')} (got "${status}")`);
        const task = query(event, 'task');
        const scan = await data.scanJobs({ ...(task !== undefined && { task }), ...(status !== undefined && { status: status as JobStatus }), maxPages: settings.scanPages, maxRows: settings.jobRows, now: ctx.now });
        return htmlResponse(200, pages.jobsPage(ctx, scan, { ...(status !== undefined && { status }), ...(task !== undefined && { task }) }));
      }
      const cancelled = action('cancel');
      if (cancelled !== undefined) {
        only('POST');
        try {
          const done = await data.cancelJob(cancelled);
          return back(ctx, ['jobs', cancelled], { text: done.notice, problem: !done.done });
        } catch (error) {
          if (error instanceof JobNotFoundError) throw new HttpError(404, error.message);
          if (error instanceof JobNotCancellableError) return back(ctx, ['jobs', cancelled], { text: error.message, problem: true });
          throw error;
        }
      }
      only('GET');
      const job = await data.job(tail);
      if (job.status === NOT_FOUND) throw new HttpError(404, `no job ${tail} is known (untracked jobs, and jobs whose record expired, are not stored)`);
      return htmlResponse(200, pages.jobPage(ctx, job));
    }

    case 'workflows': {
      if (tail === '') throw new HttpError(404, 'no console page /workflows: open a workflow by its id (the overview\'s form)');
      const cancelled = action('cancel');
      try {
        if (cancelled !== undefined) {
          only('POST');
          const done = await data.cancelWorkflow(cancelled);
          return back(ctx, ['workflows', cancelled], { text: done.notice, problem: !done.done });
        }
        only('GET');
        return htmlResponse(200, pages.workflowPage(ctx, await data.workflow(tail)));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new HttpError(404, error.message);
        throw error;
      }
    }

    case 'flights': {
      if (tail === '') throw new HttpError(404, 'no console page /flights: open a single-flight key (the overview\'s form)');
      const refreshed = action('refresh');
      if (refreshed !== undefined) {
        only('POST');
        const done = await data.refreshFlight(refreshed);
        return back(ctx, ['flights', refreshed], { text: done.notice, problem: !done.done });
      }
      only('GET');
      const item = await data.flight(tail);
      if (item === undefined) throw new HttpError(404, `no single-flight key "${tail}" (never computed, or expired)`);
      return htmlResponse(200, pages.flightPage(ctx, item));
    }

    case 'schedules': {
      if (tail !== '') throw new HttpError(404, `no console page ${where}`);
      only('GET');
      const [scan, configured] = await Promise.all([data.scanSchedules(settings.scanPages), data.schedules(settings.schedules, settings.now())]);
      return htmlResponse(200, pages.schedulesPage(ctx, scan, configured));
    }

    case 'lookup': {
      if (tail !== '') throw new HttpError(404, `no console page ${where}`);
      only('GET');
      for (const [name, page] of [['job', 'jobs'], ['workflow', 'workflows'], ['flight', 'flights']] as const) {
        const value = query(event, name)?.trim();
        if (value !== undefined && value !== '') return see(pages.consoleHref(ctx, page, value));
      }
      throw new HttpError(400, 'give a job id (job=), a workflow id (workflow=) or a single-flight key (flight=) to look up');
    }

    default:
      throw new HttpError(404, `no console page ${where}`);
  }
}

/** A query parameter, undefined when absent or empty. */
function query(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>, name: string): string | undefined {
  const value = event.queryStringParameters?.[name];
  return value === undefined || value === '' ? undefined : value;
}

async function overviewData(settings: Settings, now: number): Promise<pages.OverviewData> {
  const consoleQueues = data.consoleQueues();
  const [queues, ages, heartbeats, schedules] = await Promise.all([
    Promise.all(consoleQueues.map((q) => data.queueStats(q))),
    data.oldestMessageAges(consoleQueues, now),
    data.heartbeats(now, CONSOLE_DEFAULTS.heartbeatSamples),
    settings.schedules.length === 0 ? [] : data.schedules(settings.schedules, now).catch((error: unknown) => ({ error: data.messageOf(error) })),
  ]);
  return { queues, ages, heartbeats, schedules, schedulesConfigured: settings.schedules.length > 0 };
}
