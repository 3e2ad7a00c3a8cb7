/**
 * The operations console's HTML: pure functions of the data console-data.ts
 * reads. Every value is escaped (`escapeHtml`); every link is relative to the
 * page (`PageContext.base`), so the pages work under any stage path or custom
 * domain. No script, no external asset: the heartbeat charts are inline SVG.
 *
 * Stable hooks for browser tests and screenshots: `tr[data-queue]` with
 * `td.depth`, `td.in-flight`, `td.dead-letters`; `svg[data-heartbeat]` and
 * `[data-heartbeat-status]`; `tr[data-message-id]` with `button.redrive`, and
 * `button.redrive-all`; `.notice`; `[data-workflow-status]`, `progress`,
 * `tr[data-node-id]` with `td.state`; `[data-flight-phase]`, `button.refresh`;
 * `[data-job-status]`, `button.cancel`.
 */
import type { FlightItem } from '../coordination/single-flight.js';
import { escapeHtml } from '../http/html.js';
import type { DeadLetter } from '../jobs/dead-letter.js';
import type { HeartbeatSample } from '../jobs/heartbeat.js';
import { JobStatus, type JobRecord } from '../jobs/job-state.js';
import type { PeriodicStatus } from '../jobs/periodic.js';
import type { NodeView, WorkflowView } from '../workflows/workflow-engine.js';
import { deadLetterTotal, type ConsoleQueue, type Heartbeats, type HeartbeatView, type JobScan, type QueueAges, type QueueCounts, type QueueStats, type ScheduleScan, type ScheduleView } from './console-data.js';

/** Where a page is, for its links, and what it tells. */
export interface PageContext {
  /** The console's root directory relative to this page (`''`, `'../'`, `'console/'`): every link starts with it. */
  readonly base: string;
  /** The overview's address relative to this page. */
  readonly overview: string;
  /** Epoch milliseconds the page describes. */
  readonly now: number;
  /** The outcome of the action that led here (`?notice=`), shown on top. */
  readonly notice?: { readonly text: string; readonly problem: boolean };
}

/** Text for HTML, however it came. */
const h = (value: string | number | boolean | undefined | null): string => escapeHtml(value === undefined || value === null ? '' : String(value));

/** A link target under the console's root: each part percent-encoded (keys may hold `/` and `:`). */
export function consoleHref(ctx: Pick<PageContext, 'base'>, ...parts: readonly string[]): string {
  return ctx.base + parts.map((p) => encodeURIComponent(p)).join('/');
}

const STYLE = `*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:80rem;margin:0 auto;padding:0 1.25rem 3rem;color:#1d2330;background:#fff}
header.top{display:flex;align-items:baseline;gap:1.25rem;border-bottom:1px solid #dde;padding:.9rem 0 .6rem;margin-bottom:.5rem}
.brand{font-weight:700;font-size:1.1rem;color:inherit;text-decoration:none}.brand span{color:#b4651d}
header.top nav a{color:#2f4fa8;text-decoration:none;margin-right:1rem}header.top nav a:hover{text-decoration:underline}
h1{font-size:1.35rem;margin:1rem 0 .35rem;word-break:break-all}h2{font-size:1.05rem;margin:1.75rem 0 .4rem}
a{color:#2f4fa8}.muted{color:#6b7080}.small{font-size:.85rem}
table{border-collapse:collapse;width:100%;margin:.25rem 0 .75rem}
th,td{padding:.4rem .6rem;border-bottom:1px solid #e6e7ee;text-align:left;vertical-align:middle}
th{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:#6b7080;font-weight:600;background:#f8f8fb}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.num.alert{color:#b42318;font-weight:700}
td.wrap{word-break:break-word;max-width:32rem}code{background:#f3f3f7;padding:0 .25rem;border-radius:.25rem;font-size:.9em;word-break:break-all}
.pill{display:inline-block;padding:.05rem .6rem;border-radius:1rem;font-size:.78rem;font-weight:650;letter-spacing:.02em;background:#eceef5;color:#3b4050;white-space:nowrap}
.pill.queued,.pill.pending{background:#e8eefc;color:#2346a0}.pill.running{background:#fff3d1;color:#855400}
.pill.succeeded,.pill.ok,.pill.ready,.pill.fresh{background:#e2f5e7;color:#17692f}
.pill.failed,.pill.late,.pill.stale{background:#fde7e6;color:#b42318}.pill.cancelled,.pill.no-data,.pill.none{background:#eeeeef;color:#555a66}
.notice{padding:.6rem 1rem;border-radius:.4rem;background:#eaf4ff;border:1px solid #9cc6ef;margin:1rem 0}.notice.problem,.problem{background:#fff0ef;border:1px solid #eea7a1}
.problem{padding:.6rem 1rem;border-radius:.4rem;margin:.5rem 0}
button{font:inherit;font-size:.9rem;padding:.3rem .85rem;border-radius:.3rem;border:1px solid #9aa0b4;background:#f6f7fb;color:#1d2330;cursor:pointer}button:hover{background:#eceef6}
button.danger{border-color:#d08a84;color:#b42318}form.inline{display:inline;margin:0}
.lookup{display:flex;gap:1.5rem;flex-wrap:wrap}.lookup form{display:flex;gap:.4rem;align-items:center}
input,select{font:inherit;font-size:.9rem;padding:.25rem .4rem;border:1px solid #b8bccb;border-radius:.25rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.25rem;margin:.5rem 0 1rem}dl.facts dt{color:#6b7080}dl.facts dd{margin:0}
pre{background:#f5f5f9;padding:.6rem;border-radius:.3rem;overflow:auto;max-height:22rem;font-size:.85rem}
progress{width:22rem;height:1rem;vertical-align:middle;margin-right:.5rem}
svg.heartbeat{display:block;background:#fafafc;border:1px solid #e6e7ee;border-radius:.25rem}
svg.heartbeat .bar.ok{fill:#3d9a5b}svg.heartbeat .bar.late{fill:#d64541}svg.heartbeat .bar.waiting{fill:#b7bccb;fill-opacity:.55;stroke:#8a90a3;stroke-dasharray:2 1}
svg.heartbeat .bar.waiting.late{fill:#f3b4b0;stroke:#d64541}svg.heartbeat line.threshold{stroke:#b42318;stroke-dasharray:4 3;stroke-width:1}
.when{white-space:nowrap}.tree td.node{white-space:nowrap}.filters{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap;margin:.5rem 0}.counts a{margin-right:.4rem;text-decoration:none}.counts a.active .pill{box-shadow:0 0 0 2px #1d2330}
footer{margin-top:2.5rem;border-top:1px solid #dde;padding-top:.5rem;font-size:.8rem;color:#6b7080}`;

/** The console's shell: header with navigation, the notice, the body, and a footer with the page's time. */
export function consolePage(ctx: PageContext, title: string, body: string, options: { readonly refreshSeconds?: number } = {}): string {
  const refresh = options.refreshSeconds === undefined ? '' : `<meta http-equiv="refresh" content="${options.refreshSeconds}">`;
  const notice = ctx.notice === undefined ? '' : `<div class="notice${ctx.notice.problem ? ' problem' : ''}" role="status">${h(ctx.notice.text)}</div>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${refresh}
<title>${h(title)} · Ferry's Flower</title><style>${STYLE}</style></head><body>
<header class="top"><a class="brand" href="${h(ctx.overview)}">Ferry's <span>Flower</span></a><nav><a href="${h(ctx.overview)}">Overview</a><a href="${h(consoleHref(ctx, 'jobs'))}">Jobs</a><a href="${h(consoleHref(ctx, 'schedules'))}">Schedules</a></nav></header>
${notice}<main>${body}</main>
<footer>Ferry's Flower, the operations console · as of <time datetime="${h(iso(ctx.now))}">${h(shortTime(iso(ctx.now)))}</time></footer></body></html>`;
}

/** An error page with the navigation back: the status, and what went wrong. */
export function consoleErrorPage(ctx: PageContext, status: number, message: string): string {
  const reason = { 400: 'Bad request', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed' }[status] ?? (status >= 500 ? 'Something went wrong' : 'Request error');
  return consolePage(ctx, `${status} ${reason}`, `<h1>${status} ${h(reason)}</h1><div class="problem" data-status="${status}"><p id="message">${h(message)}</p></div><p><a href="${h(ctx.overview)}">Back to the overview</a></p>`);
}

// ---------------------------------------------------------------------------
// Small pieces
// ---------------------------------------------------------------------------

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `2026-05-01 12:00:03Z` from an ISO time; the text as given when it is not one. */
function shortTime(isoText: string | undefined): string {
  if (isoText === undefined || isoText === '') return '';
  const ms = Date.parse(isoText);
  return Number.isNaN(ms) ? isoText : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `340 ms`, `2.1 s`, `3 min 5 s`, `2 h 4 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
  if (abs < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
  return `${Math.floor(ms / 86_400_000)} d ${Math.round((ms % 86_400_000) / 3_600_000)} h`;
}

/** A time with how long ago (or ahead) it is. */
function when(ctx: PageContext, isoText: string | undefined): string {
  if (isoText === undefined || isoText === '') return '<span class="muted">—</span>';
  const ms = Date.parse(isoText);
  if (Number.isNaN(ms)) return h(isoText);
  const delta = ctx.now - ms;
  const relative = delta >= 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
  return `<span class="when"><time datetime="${h(isoText)}" title="${h(isoText)}">${h(shortTime(isoText))}</time> <span class="muted small">(${h(relative)})</span></span>`;
}

function whenMs(ctx: PageContext, ms: number | undefined): string {
  return ms === undefined ? '<span class="muted">—</span>' : when(ctx, iso(ms));
}

/** A status pill: its class is the lower-case status. */
function pill(status: string, attributes = '', label = status): string {
  return `<span class="pill ${h(status.toLowerCase().replace(/[^a-z0-9-]/g, '-'))}"${attributes}>${h(label)}</span>`;
}

function num(value: number | undefined, cls: string, alertWhenPositive = false): string {
  const alert = alertWhenPositive && (value ?? 0) > 0 ? ' alert' : '';
  return `<td class="num ${cls}${alert}">${value === undefined ? '<span class="muted">—</span>' : h(value.toLocaleString('en-US'))}</td>`;
}

/** JSON of a value, cut to `max` characters. */
function json(value: unknown, max = 10_000): string {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}\n… (${(text.length - max).toLocaleString('en-US')} more characters)` : text;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A POST form with one button (the console's actions). */
function actionForm(action: string, button: string, buttonClass: string, fields: Readonly<Record<string, string>> = {}): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${h(name)}" value="${h(value)}">`)
    .join('');
  return `<form class="inline" method="post" action="${h(action)}">${hidden}<button type="submit" class="${h(buttonClass)}">${h(button)}</button></form>`;
}

// ---------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------

export interface OverviewData {
  readonly queues: readonly QueueStats[];
  /** Each queue's oldest-message age (CloudWatch's SQS metric). */
  readonly ages: QueueAges;
  readonly heartbeats: Heartbeats;
  /** The schedules named in the console's options; an error when they could not be read. */
  readonly schedules: readonly ScheduleView[] | { readonly error: string };
  readonly schedulesConfigured: boolean;
}

export function overviewPage(ctx: PageContext, data: OverviewData): string {
  const body = [
    '<h1>Overview</h1>',
    '<p class="muted small">Refreshes every 5 seconds.</p>',
    '<h2>Queues</h2>',
    queuesTable(ctx, data.queues, data.ages),
    '<p class="muted small">Counts are SQS\'s approximate numbers (GetQueueAttributes). SQS does not report the age of the oldest message ' +
      '(CloudWatch\'s ApproximateAgeOfOldestMessage, on the stack\'s dashboard, does); the heartbeats below measure how long a new message waits for a worker.</p>',
    '<h2>Heartbeats</h2>',
    heartbeatsSection(ctx, data.heartbeats),
    '<h2>Schedules</h2>',
    schedulesSection(ctx, data.schedules, data.schedulesConfigured),
    '<h2>Look up</h2>',
    lookupForms(ctx),
    `<p><a href="${h(consoleHref(ctx, 'jobs'))}">Recent jobs by status and task</a></p>`,
  ];
  return consolePage(ctx, 'Overview', body.join('\n'), { refreshSeconds: 5 });
}

/** A queue's oldest-message age cell: CloudWatch's latest minute, or why there is none. */
function ageCell(ages: QueueAges, queueName: string): string {
  const age = ages.byName[queueName];
  if (age === undefined) {
    const why = ages.error === undefined ? 'no datapoint from CloudWatch in the last 10 minutes' : `CloudWatch: ${ages.error}`;
    return `<td class="num oldest"><span class="muted" title="${h(why)}">—</span></td>`;
  }
  return `<td class="num oldest" data-age-seconds="${age.seconds}" title="ApproximateAgeOfOldestMessage at ${h(shortTime(age.at))}">${h(duration(age.seconds * 1000))}</td>`;
}

function queuesTable(ctx: PageContext, stats: readonly QueueStats[], ages: QueueAges): string {
  if (stats.length === 0) {
    return '<p class="muted" data-queues="none">This function has no queue in its environment (no FERRY_QUEUE_*_URL variable): declare the queues under its <code>uses.queues</code>.</p>';
  }
  const rows = stats.map((s) => {
    const link = `<a href="${h(consoleHref(ctx, 'queues', s.queue.id))}">${h(s.queue.id)}</a> <span class="muted small">${h(s.queue.name)}</span>`;
    if (s.error !== undefined) {
      return `<tr data-queue="${h(s.queue.id)}"><td>${link}</td><td colspan="4" class="problem small">${h(s.error)}</td>${ageCell(ages, s.queue.name)}</tr>`;
    }
    const dead = s.deadLetters === undefined ? undefined : deadLetterTotal(s.deadLetters);
    return `<tr data-queue="${h(s.queue.id)}"><td>${link}</td>${num(s.counts?.waiting, 'depth')}${num(s.counts?.inFlight, 'in-flight')}${num(s.counts?.delayed, 'delayed')}${num(dead, 'dead-letters', true)}${ageCell(ages, s.queue.name)}</tr>`;
  });
  const note = ages.error === undefined ? '' : `<p class="muted small" data-ages="unavailable">Oldest message: CloudWatch could not be read (${h(ages.error)}).</p>`;
  return `<table class="queues"><thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">In flight</th><th class="num">Delayed</th><th class="num">Dead letters</th><th class="num" title="SQS's ApproximateAgeOfOldestMessage, from CloudWatch (published once a minute)">Oldest message</th></tr></thead><tbody>${rows.join('')}</tbody></table>${note}`;
}

const HEARTBEAT_LABEL = { ok: 'OK', late: 'LATE', 'no-data': 'NO DATA' } as const;

function heartbeatsSection(ctx: PageContext, beats: Heartbeats): string {
  if (!beats.declared) return '<p class="muted" data-heartbeats="none">No heartbeats declared (an app declares them with <code>heartbeats</code> in <code>defineApp</code>).</p>';
  const rows = beats.views.map((v) => {
    const newest = v.samples[0];
    const status = `<span class="pill ${v.state}" data-heartbeat-status="${h(v.queue)}">${HEARTBEAT_LABEL[v.state]}</span>`;
    const latency = v.latencyMs === undefined ? '<span class="muted">—</span>' : h(duration(v.latencyMs));
    const error = v.error === undefined ? '' : `<div class="problem small">${h(v.error)}</div>`;
    return `<tr data-heartbeat-queue="${h(v.queue)}"><td>${h(v.queue)}</td><td>${status}</td><td>${heartbeatChart(v, beats.lateAfterMs, ctx.now)}${error}</td><td class="num">${latency}</td><td>${when(ctx, newest?.sentAt)}</td></tr>`;
  });
  return `<table class="heartbeats"><thead><tr><th>Queue</th><th>Status</th><th>Enqueue-to-start latency, oldest → newest</th><th class="num">Latency</th><th>Newest canary sent</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="muted small">Late after ${h(duration(beats.lateAfterMs))} (dashed line). A grey bar is a canary still waiting for a worker: its height is how long so far.</p>`;
}

const CHART = { width: 300, height: 56, slots: 60, pad: 2 } as const;

/**
 * A bar per canary, oldest on the left: its latency, or (grey, dashed) how
 * long it has waited so far; red when over `lateAfterMs`, the dashed line.
 * The scale ends at 4 x `lateAfterMs`: a taller bar is cut there.
 */
export function heartbeatChart(view: Pick<HeartbeatView, 'queue' | 'samples'>, lateAfterMs: number, now: number): string {
  const samples = [...view.samples].reverse();
  const valueOf = (s: HeartbeatSample) => (s.startedAt === undefined || s.latencyMs === undefined ? Math.max(0, now - Date.parse(s.sentAt)) : s.latencyMs);
  const values = samples.map(valueOf).map((v) => (Number.isFinite(v) ? v : 0));
  // Up to 4 x lateAfter: one canary waiting for minutes must not flatten the others (taller bars are cut at the top).
  const top = Math.max(lateAfterMs * 1.5, Math.min(lateAfterMs * 4, Math.max(0, ...values)));
  const usable = CHART.height - 2 * CHART.pad;
  const slots = Math.max(CHART.slots, samples.length);
  const slot = (CHART.width - 2 * CHART.pad) / slots;
  const y = (v: number) => CHART.pad + usable - (Math.min(v, top) / top) * usable;
  const offset = CHART.pad + (slots - samples.length) * slot;
  const bars = samples.map((s, i) => {
    const value = values[i] ?? 0;
    const waiting = s.startedAt === undefined;
    const late = value > lateAfterMs;
    const height = Math.max(1, CHART.pad + usable - y(value));
    const label = waiting ? `sent ${shortTime(s.sentAt)}; waiting ${duration(value)} so far` : `sent ${shortTime(s.sentAt)}; started after ${duration(value)}`;
    const cls = `bar ${waiting ? 'waiting' : late ? 'late' : 'ok'}${waiting && late ? ' late' : ''}`;
    return `<rect class="${cls}" x="${(offset + i * slot).toFixed(1)}" y="${(CHART.pad + usable - height).toFixed(1)}" width="${Math.max(1, slot - 1).toFixed(1)}" height="${height.toFixed(1)}" data-latency-ms="${Math.round(value)}"${waiting ? ' data-waiting="true"' : ''}><title>${h(label)}</title></rect>`;
  });
  const threshold = y(lateAfterMs).toFixed(1);
  const summary = `${view.queue}: ${samples.length} heartbeat${samples.length === 1 ? '' : 's'}; late after ${duration(lateAfterMs)}`;
  return `<svg class="heartbeat" data-heartbeat="${h(view.queue)}" role="img" aria-label="${h(summary)}" width="${CHART.width}" height="${CHART.height}" viewBox="0 0 ${CHART.width} ${CHART.height}" xmlns="http://www.w3.org/2000/svg"><title>${h(summary)}</title>${bars.join('')}<line class="threshold" x1="0" x2="${CHART.width}" y1="${threshold}" y2="${threshold}"/></svg>`;
}

function scheduleState(status: PeriodicStatus | undefined): string {
  if (status === undefined) return pill('none', ' title="no state item: it never ticked, or the name is not a schedule"');
  return status.running !== undefined ? pill('running') : pill('idle');
}

function scheduleRows(ctx: PageContext, views: readonly ScheduleView[]): string {
  return views
    .map(({ name, status, expression, nextRun }) => {
      const lastRun = status?.lastRun === undefined ? '<span class="muted">never</span>' : `${pill(status.lastRun.outcome)} ${when(ctx, status.lastRun.finishedAt)} <span class="muted small">tick ${h(shortTime(status.lastRun.tick))}</span>`;
      const running = status?.running === undefined ? '<span class="muted">—</span>' : `<a href="${h(consoleHref(ctx, 'jobs', status.running.jobId))}">tick ${h(shortTime(status.running.tick))}</a> <span class="muted small">lease until ${h(shortTime(status.running.until))}</span>`;
      const next =
        nextRun === undefined
          ? `<span class="muted"${expression === undefined ? ' title="the console was not given its expression"' : ` title="${h(expression)}: a rate's next run follows its last tick"`}>—</span>`
          : `<span data-next-run="${h(nextRun.at)}" title="${h(expression ?? '')}">${nextRun.approximate ? '≈ ' : ''}${h(shortTime(nextRun.at))}</span>`;
      const label = expression === undefined ? h(name) : `${h(name)} <span class="muted small">${h(expression)}</span>`;
      return `<tr data-schedule="${h(name)}"><td>${label}</td><td>${scheduleState(status)}</td><td>${when(ctx, status?.lastTick)}</td><td>${next}</td><td>${lastRun}</td><td>${running}</td><td>${status?.pendingTick === undefined ? '<span class="muted">—</span>' : h(shortTime(status.pendingTick))}</td>${num(status?.skipped, 'skipped')}${num(status?.coalesced, 'coalesced')}</tr>`;
    })
    .join('');
}

const SCHEDULE_HEAD = '<thead><tr><th>Schedule</th><th>State</th><th>Last tick</th><th>Next run</th><th>Last run</th><th>Running</th><th>Pending tick</th><th class="num">Skipped</th><th class="num">Coalesced</th></tr></thead>';

function schedulesSection(ctx: PageContext, schedules: OverviewData['schedules'], configured: boolean): string {
  if (!configured) {
    return `<p class="muted">No schedules given to the console (<code>createConsoleHandler({ schedules: app.schedules })</code>): it cannot list them without reading the whole table. <a href="${h(consoleHref(ctx, 'schedules'))}">Find schedules by a bounded scan</a>.</p>`;
  }
  if ('error' in schedules) return `<div class="problem">${h(schedules.error)}</div>`;
  return `<table class="schedules">${SCHEDULE_HEAD}<tbody>${scheduleRows(ctx, schedules)}</tbody></table><p class="muted small">Tick times are the schedule's; a run is a job of its task (periodic.ts).</p>`;
}

function lookupForms(ctx: PageContext): string {
  const form = (name: string, label: string, placeholder: string) =>
    `<form method="get" action="${h(consoleHref(ctx, 'lookup'))}"><label for="lookup-${name}">${h(label)}</label><input id="lookup-${name}" name="${name}" placeholder="${h(placeholder)}" required><button type="submit">Open</button></form>`;
  return `<div class="lookup">${form('job', 'Job', 'job id')}${form('workflow', 'Workflow', 'workflow id')}${form('flight', 'Single-flight key', 'key, e.g. report:daily')}</div>`;
}

// ---------------------------------------------------------------------------
// A queue and its dead letters
// ---------------------------------------------------------------------------

export interface QueuePageData {
  readonly stats: QueueStats;
  /** The queue's oldest-message age (CloudWatch's SQS metric). */
  readonly ages: QueueAges;
  /** Undefined when the queue has no dead-letter queue in the environment. */
  readonly deadLetters?: readonly DeadLetter[];
  readonly listMax: number;
}

function oldestText(ages: QueueAges, queueName: string): string {
  const age = ages.byName[queueName];
  if (age !== undefined) return `<strong data-age-seconds="${age.seconds}">${h(duration(age.seconds * 1000))}</strong> <span class="muted small">(CloudWatch, minute of ${h(shortTime(age.at))})</span>`;
  return `<span class="muted">${h(ages.error === undefined ? 'no datapoint from CloudWatch in the last 10 minutes' : `CloudWatch could not be read: ${ages.error}`)}</span>`;
}

function countsRow(label: string, counts: QueueCounts | undefined, cls: string): string {
  return `<tr class="${cls}"><td>${label}</td>${num(counts?.waiting, 'depth')}${num(counts?.inFlight, 'in-flight')}${num(counts?.delayed, 'delayed')}</tr>`;
}

export function queuePage(ctx: PageContext, data: QueuePageData): string {
  const { queue } = data.stats;
  const parts = [
    `<h1>Queue ${h(queue.id)}</h1>`,
    `<p class="muted small">${h(queue.name)} · <code>${h(queue.url)}</code></p>`,
    `<p class="oldest-message">Oldest message: ${oldestText(data.ages, queue.name)}</p>`,
    data.stats.error === undefined
      ? `<table class="queue-counts" data-queue="${h(queue.id)}"><thead><tr><th></th><th class="num">Waiting</th><th class="num">In flight</th><th class="num">Delayed</th></tr></thead><tbody>${countsRow('Queue', data.stats.counts, 'queue')}${queue.deadLetterUrl === undefined ? '' : countsRow('Dead-letter queue', data.stats.deadLetters, 'dlq')}</tbody></table>`
      : `<div class="problem">${h(data.stats.error)}</div>`,
    '<h2>Dead letters</h2>',
    deadLettersSection(ctx, queue, data),
  ];
  return consolePage(ctx, `Queue ${queue.id}`, parts.join('\n'));
}

function deadLettersSection(ctx: PageContext, queue: ConsoleQueue, data: QueuePageData): string {
  if (data.deadLetters === undefined) return `<p class="muted">No dead-letter queue in this function's environment for ${h(queue.id)}.</p>`;
  const redriveAction = consoleHref(ctx, 'queues', queue.id, 'redrive');
  if (data.deadLetters.length === 0) return '<p class="muted" data-dead-letters="none">No dead letters.</p>';
  const rows = data.deadLetters.map((d) => {
    const r = d.reason;
    const jobId = r?.jobId ?? d.jobId;
    const job = jobId === undefined ? '<span class="muted">—</span>' : `<a href="${h(consoleHref(ctx, 'jobs', jobId))}"><code>${h(jobId)}</code></a>`;
    const reason =
      r === undefined
        ? '<span class="muted">no reason recorded (moved by SQS after maxReceiveCount, or sent by hand)</span>'
        : `${pill(r.cause)} after ${h(r.attempts)} attempt${r.attempts === 1 ? '' : 's'}: <strong>${h(r.errorName)}</strong>: <span class="reason">${h(r.errorMessage)}</span>`;
    const body = `<details><summary class="small muted">body</summary><pre>${h(d.body)}</pre></details>`;
    return `<tr data-message-id="${h(d.messageId)}"><td><code>${h(d.messageId)}</code></td><td>${h(r?.task ?? d.task ?? '(undecodable)')}</td><td>${job}</td><td class="wrap">${reason}${body}</td><td>${when(ctx, r?.deadAt)}</td><td>${actionForm(redriveAction, 'Redrive', 'redrive', { messageId: d.messageId })}</td></tr>`;
  });
  const more = data.deadLetters.length >= data.listMax ? `<p class="muted small">The first ${data.listMax} are listed.</p>` : '';
  return `<table class="dead-letters"><thead><tr><th>Message</th><th>Task</th><th>Job</th><th>Reason</th><th>Dead since</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}
<p>${actionForm(redriveAction, 'Redrive all', 'redrive-all')} <span class="muted small">Moves them back to ${h(queue.id)} as new messages: each job's attempts start again (a FAILED job goes back to QUEUED).</span></p>`;
}

// ---------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------

export function jobsPage(ctx: PageContext, scan: JobScan, filter: { readonly status?: string; readonly task?: string }): string {
  const query = (status: string | undefined) => {
    const q = new URLSearchParams();
    if (status !== undefined) q.set('status', status);
    if (filter.task !== undefined) q.set('task', filter.task);
    const text = q.toString();
    return `${consoleHref(ctx, 'jobs')}${text === '' ? '' : `?${text}`}`;
  };
  const total = Object.values(scan.counts).reduce((a, b) => a + b, 0);
  const active = (status: string | undefined) => (filter.status === status ? ' class="active"' : '');
  const counts = [
    `<a href="${h(query(undefined))}"${active(undefined)} data-count="ALL">${pill('all', '', `ALL ${total}`)}</a>`,
    ...Object.values(JobStatus).map((s) => `<a href="${h(query(s))}"${active(s)} data-count="${s}">${pill(s, '', `${s} ${scan.counts[s]}`)}</a>`),
  ].join('');
  const options = ['', ...Object.values(JobStatus)].map((s) => `<option value="${s}"${filter.status === s ? ' selected' : ''}>${s === '' ? 'any status' : s}</option>`).join('');
  const rows = scan.jobs.map(
    (j) =>
      `<tr data-job-id="${h(j.jobId)}"><td><a href="${h(consoleHref(ctx, 'jobs', j.jobId))}"><code>${h(cut(j.jobId, 60))}</code></a></td><td>${h(j.task)}</td><td>${h(j.queue)}</td><td class="state">${pill(j.status)}</td><td class="num">${h(j.attempts)} / ${h(j.maxAttempts)}</td><td>${when(ctx, j.enqueuedAt)}</td><td>${when(ctx, j.finishedAt ?? j.startedAt)}</td><td class="wrap small">${j.lastError === undefined ? '' : `${h(j.lastError.name)}: ${h(cut(j.lastError.message, 160))}`}</td></tr>`,
  );
  const extent = `Bounded scan: read ${scan.itemsRead.toLocaleString('en-US')} item${scan.itemsRead === 1 ? '' : 's'} of the state table in ${scan.pages} page${scan.pages === 1 ? '' : 's'}${scan.complete ? ' (the whole table)' : ' (at most 1 MB each; the table has more: the jobs shown are those found, not necessarily the newest)'}; ${scan.matched.toLocaleString('en-US')} job${scan.matched === 1 ? '' : 's'} match${scan.matched > scan.jobs.length ? `, the ${scan.jobs.length} most recently enqueued shown` : ''}.`;
  const body = [
    '<h1>Jobs</h1>',
    `<form class="filters" method="get" action="${h(consoleHref(ctx, 'jobs'))}"><label>Status <select name="status">${options}</select></label><label>Task <input name="task" value="${h(filter.task ?? '')}" placeholder="any task"></label><button type="submit">Filter</button></form>`,
    `<p class="counts">${counts}</p>`,
    `<p class="muted small" data-scan-items="${scan.itemsRead}">${h(extent)}</p>`,
    rows.length === 0
      ? '<p class="muted" data-jobs="none">No job found.</p>'
      : `<table class="jobs"><thead><tr><th>Job</th><th>Task</th><th>Queue</th><th>Status</th><th class="num">Attempts</th><th>Enqueued</th><th>Started / finished</th><th>Last error</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ];
  return consolePage(ctx, 'Jobs', body.join('\n'));
}

export function jobPage(ctx: PageContext, job: JobRecord): string {
  const facts: [string, string][] = [
    ['Task', h(job.task)],
    ['Queue', `<a href="${h(consoleHref(ctx, 'queues', job.queue))}">${h(job.queue)}</a>`],
    ['Attempts', `${h(job.attempts)} of ${h(job.maxAttempts)}`],
    ['Enqueued', when(ctx, job.enqueuedAt)],
    ['Started', when(ctx, job.startedAt)],
    ['Finished', when(ctx, job.finishedAt)],
  ];
  if (job.startedAt !== undefined) {
    const end = job.finishedAt === undefined ? ctx.now : Date.parse(job.finishedAt);
    facts.push(['Waited', h(duration(Date.parse(job.startedAt) - Date.parse(job.enqueuedAt)))], [job.finishedAt === undefined ? 'Running for' : 'Ran', h(duration(end - Date.parse(job.startedAt)))]);
  }
  if (job.leaseUntil !== undefined && job.status === JobStatus.RUNNING) facts.push(['Claim lapses', when(ctx, job.leaseUntil)]);
  if (job.nextAttemptAt !== undefined) facts.push(['Next attempt', when(ctx, job.nextAttemptAt)]);
  if (job.stopRequestedAt !== undefined) facts.push(['Stop asked', when(ctx, job.stopRequestedAt)]);
  if (job.failCause !== undefined) facts.push(['Failed because', h(job.failCause)]);
  if (job.deadLetteredAt !== undefined) facts.push(['Dead-lettered', `${when(ctx, job.deadLetteredAt)} · <a href="${h(consoleHref(ctx, 'queues', job.queue))}">its queue's dead letters</a>`]);
  if (job.tag !== undefined) facts.push(['Tag', `<code>${h(job.tag)}</code>`]);
  facts.push(['Trace', `<code>${h(job.traceId)}</code>`]);
  const cancellable = job.status === JobStatus.QUEUED || job.status === JobStatus.RUNNING;
  const action = cancellable
    ? `<p>${actionForm(consoleHref(ctx, 'jobs', job.jobId, 'cancel'), job.status === JobStatus.RUNNING ? 'Ask to stop' : 'Cancel', 'cancel danger')} <span class="muted small">${job.status === JobStatus.RUNNING ? 'A running job stops where its task checks stopIfRequested, or finishes.' : 'A queued job will not run.'}</span></p>`
    : '';
  const body = [
    `<h1>Job <code>${h(job.jobId)}</code></h1>`,
    `<p><span data-job-status="${h(job.status)}">${pill(job.status)}</span></p>`,
    action,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
    job.lastError === undefined ? '' : `<h2>Last error</h2><div class="problem" data-job-error><strong>${h(job.lastError.name)}</strong>: ${h(job.lastError.message)}</div>`,
    job.result === undefined ? '' : `<h2>Result</h2><pre data-job-result>${h(json(job.result))}</pre>`,
  ];
  return consolePage(ctx, `Job ${job.jobId}`, body.join('\n'));
}

// ---------------------------------------------------------------------------
// Workflows
// ---------------------------------------------------------------------------

/** Rows a workflow's tree shows at most (a large group has thousands of members). */
const TREE_ROWS = 500;

export function workflowPage(ctx: PageContext, view: WorkflowView): string {
  const p = view.progress;
  const ended = p.succeeded + p.failed + p.cancelled;
  const rows: string[] = [];
  let hidden = 0;
  const walk = (node: NodeView, depth: number) => {
    if (rows.length >= TREE_ROWS) {
      hidden += 1;
    } else {
      const label = `${'<span class="muted">└ </span>'.repeat(depth > 0 ? 1 : 0)}${h(node.kind)}${node.task === undefined ? '' : ` <strong>${h(node.task)}</strong>`}`;
      const job = node.jobId === undefined ? '' : `<a href="${h(consoleHref(ctx, 'jobs', node.jobId))}"><code>${h(cut(node.jobId, 48))}</code></a>`;
      const detail = node.error !== undefined ? `<span class="reason">${h(node.error.name)}: ${h(node.error.message)}</span>` : node.result !== undefined && node.kind === 'task' ? `<code>${h(cut(JSON.stringify(node.result) ?? '', 120))}</code>` : '';
      rows.push(`<tr data-node-id="${h(node.id)}"><td class="node" style="padding-left:${0.6 + depth * 1.25}rem">${label}</td><td class="state">${pill(node.status)}</td><td>${job}</td><td class="wrap small">${detail}</td></tr>`);
    }
    for (const child of node.children) walk(child, depth + 1);
  };
  walk(view.tree, 0);
  const facts: [string, string][] = [['Members', `${h(p.total)}: succeeded ${h(p.succeeded)}, failed ${h(p.failed)}, cancelled ${h(p.cancelled)}`]];
  if (view.deadline !== undefined) facts.push(['Deadline', when(ctx, view.deadline)]);
  const body = [
    `<h1>Workflow <code>${h(view.workflowId)}</code></h1>`,
    `<p><span data-workflow-status="${h(view.status)}">${pill(view.status)}</span></p>`,
    `<p><progress value="${ended}" max="${Math.max(p.total, 1)}">${ended} of ${p.total}</progress><span class="small">${h(ended)} of ${h(p.total)} members ended</span></p>`,
    view.status === 'RUNNING' ? `<p>${actionForm(consoleHref(ctx, 'workflows', view.workflowId, 'cancel'), 'Cancel', 'cancel danger')} <span class="muted small">Members not started are cancelled; running ones finish and are ignored.</span></p>` : '',
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
    view.error === undefined ? '' : `<h2>Error</h2><div class="problem">node <code>${h(view.error.nodeId)}</code>${view.error.task === undefined ? '' : ` (${h(view.error.task)})`}: <strong>${h(view.error.name)}</strong>: ${h(view.error.message)}</div>`,
    view.result === undefined ? '' : `<h2>Result</h2><pre>${h(json(view.result))}</pre>`,
    '<h2>Tree</h2>',
    `<table class="tree"><thead><tr><th>Node</th><th>State</th><th>Job</th><th>Result or error</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    hidden > 0 ? `<p class="muted small">${hidden.toLocaleString('en-US')} more nodes not shown.</p>` : '',
  ];
  return consolePage(ctx, `Workflow ${view.workflowId}`, body.join('\n'));
}

// ---------------------------------------------------------------------------
// Single-flight keys
// ---------------------------------------------------------------------------

export function flightPage(ctx: PageContext, item: FlightItem): string {
  const fresh = item.freshUntil !== undefined && item.freshUntil > ctx.now;
  const facts: [string, string][] = [
    ['Computed', whenMs(ctx, item.computedAt)],
    ['Fresh until', item.freshUntil === undefined ? '<span class="muted">—</span>' : `${whenMs(ctx, item.freshUntil)} <span data-flight-freshness="${fresh ? 'fresh' : 'stale'}">${pill(fresh ? 'fresh' : 'stale')}</span>`],
    ['Served until', whenMs(ctx, item.staleUntil)],
    ['Result', item.result === undefined ? '<span class="muted">none stored</span>' : `<details><summary>stored</summary><pre>${h(json(item.result))}</pre></details>`],
  ];
  if (item.jobId !== undefined) facts.push(['Job', `<a href="${h(consoleHref(ctx, 'jobs', item.jobId))}"><code>${h(item.jobId)}</code></a>`]);
  if (item.claimedAt !== undefined) facts.push(['Claimed', whenMs(ctx, item.claimedAt)]);
  if (item.leaseUntil !== undefined && (item.phase === 'queued' || item.phase === 'running')) facts.push(['Claim lapses', whenMs(ctx, item.leaseUntil)]);
  if (item.runRef !== undefined) facts.push(['Run', `<code>${h(item.runRef)}</code> · <a href="${h(consoleHref(ctx, 'workflows', item.runRef))}">as a workflow</a>`]);
  if (item.failedAt !== undefined) facts.push(['Failed', whenMs(ctx, item.failedAt)]);
  if (item.retryAt !== undefined) facts.push(['No refresh before', whenMs(ctx, item.retryAt)]);
  facts.push(['Token', h(item.token)], ['Attempts', h(item.attempts ?? 0)]);
  const body = [
    `<h1>Key <code>${h(item.key)}</code></h1>`,
    `<p><span data-flight-phase="${h(item.phase)}">${pill(item.phase)}</span></p>`,
    `<p>${actionForm(consoleHref(ctx, 'flights', item.key, 'refresh'), 'Force refresh', 'refresh')} <span class="muted small">A ready result stops being fresh now (served stale while the next request refreshes it); a failed key's cool-down ends. Copies already handed out as fresh (a browser's max-age, an app's memory cache) may be used until their own fresh time.</span></p>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
    item.lastError === undefined ? '' : `<h2>Last error</h2><div class="problem"><strong>${h(item.lastError.name)}</strong>${item.lastError.code === undefined ? '' : ` <code>${h(item.lastError.code)}</code>`}: ${h(item.lastError.message)}</div>`,
  ];
  return consolePage(ctx, `Key ${item.key}`, body.join('\n'));
}

// ---------------------------------------------------------------------------
// Schedules found by a scan
// ---------------------------------------------------------------------------

export function schedulesPage(ctx: PageContext, scan: ScheduleScan, configured: readonly ScheduleView[]): string {
  const extent = `Bounded scan: read ${scan.itemsRead.toLocaleString('en-US')} item${scan.itemsRead === 1 ? '' : 's'} in ${scan.pages} page${scan.pages === 1 ? '' : 's'}${scan.complete ? ' (the whole table)' : ' (the table has more: schedules may be missing)'}.`;
  const found = scan.schedules.filter((s) => !configured.some((c) => c.name === s.name));
  const all = [...configured, ...found];
  const body = [
    '<h1>Schedules</h1>',
    `<p class="muted small" data-scan-items="${scan.itemsRead}">${h(extent)}</p>`,
    all.length === 0 ? '<p class="muted" data-schedules="none">No schedule has state yet.</p>' : `<table class="schedules">${SCHEDULE_HEAD}<tbody>${scheduleRows(ctx, all)}</tbody></table>`,
  ];
  return consolePage(ctx, 'Schedules', body.join('\n'));
}
