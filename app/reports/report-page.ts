/**
 * The report service's pages for people: the index of reports, a report's
 * page in each state, and the pages for a bad request.
 *
 * While pending, a report page refreshes itself (a meta refresh inside
 * <noscript>, so it works without JavaScript); with JavaScript it polls the
 * JSON answer, shows the state, a fanned-out refresh's progress ("12 of 31
 * partitions read"; a refresh computed in one job says "calculating") and the
 * elapsed time in place, and reloads once the report is ready
 * or failed. Ready shows the result and its age; failed shows the error and a
 * retry button.
 *
 * Every link is relative (a report page lives at `reports/<name>`, the index
 * at `reports`), so the pages work under any API Gateway stage path.
 */
import { type FlightAnswer, escapeHtml, htmlPage } from 'ferry';
import { allowedValues, type ParamProblem, type ParamSpecs } from './report-params.js';
import type { ReportDefinition } from './report.js';
import type { RefreshProgress } from './report-workflow.js';

export const POLL_SECONDS = 2;

type AnyReport = ReportDefinition<ParamSpecs, unknown>;
type Params = Readonly<Record<string, number | string>>;

/** A span of time in words: `45 seconds`, `1 minute`, `3 minutes`, `2 hours`. */
export function spanInWords(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s < 60) return unit(s, 'second');
  if (s < 3_600) return unit(Math.round(s / 60), 'minute');
  return unit(Math.round(s / 3_600), 'hour');
}

/** "computed 2 minutes ago, fresh for 3 more minutes", or how long it has been stale. */
export function ageInWords(computedAt: number, freshUntil: number, now: number): string {
  const ago = now - computedAt < 5_000 ? 'just now' : `${spanInWords(now - computedAt)} ago`;
  return freshUntil > now ? `computed ${ago}, fresh for ${spanInWords(freshUntil - now)} more` : `computed ${ago}, stale for ${spanInWords(now - freshUntil)}`;
}

/** The pending state's progress in words: what the poller shows in `#progress`. */
export function progressInWords(phase: 'queued' | 'running', progress: RefreshProgress | undefined): string {
  if (phase === 'queued') return 'waiting for a worker';
  if (progress === undefined) return 'calculating';
  const read = `${progress.partitionsDone} of ${progress.partitions} partitions read`;
  return progress.partitionsDone >= progress.partitions ? `${read}; combining` : read;
}

function queryOf(params: Params): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
}

function heading(report: AnyReport, params: Params): string {
  const shown = Object.entries(params).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(v))}`).join(', ');
  return `<h1>${escapeHtml(report.title)}</h1><p class="muted">${escapeHtml(report.description)}<br>${shown}</p>`;
}

/** Links to the index and to the other reports, relative to a page at `reports/<name>`. */
function nav(all: readonly AnyReport[], current: string | undefined): string {
  const others = all.filter((r) => r.name !== current).map((r) => `<a href="${escapeHtml(r.name)}">${escapeHtml(r.title)}</a>`);
  return `<nav><a href="../reports" id="all-reports">All reports</a>${others.length > 0 ? ` · Other reports: ${others.join(' · ')}` : ''}</nav>`;
}

function paramsTable(report: AnyReport): string {
  const rows = Object.entries(report.params)
    .map(
      ([name, spec]) =>
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(spec.description)}</td><td>${escapeHtml(allowedValues(spec))}</td>` +
        `<td>${spec.default === '' ? '<span class="muted">(empty)</span>' : `<code>${escapeHtml(String(spec.default))}</code>`}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>parameter</th><th>meaning</th><th>allowed</th><th>default</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export interface ReportPageOptions {
  /** Relative path of the retry form (`<name>/retry?…`). */
  readonly retryPath: string;
  readonly now: number;
  /** Every report, for the links to the others. */
  readonly all: readonly AnyReport[];
  /** While running: how far the chord has got. */
  readonly progress?: RefreshProgress;
}

export function renderReportPage(report: AnyReport, params: Params, answer: FlightAnswer, options: ReportPageOptions): string {
  const { now } = options;
  const top = heading(report, params);
  const links = nav(options.all, report.name);
  if (answer.state === 'ready') {
    const when = new Date(answer.computedAt).toISOString();
    const age = `<span id="age">${escapeHtml(ageInWords(answer.computedAt, answer.freshUntil, now))}</span>`;
    const note = answer.stale
      ? `<p class="muted" id="stale">Result ${age} (at <time datetime="${when}">${when}</time>); a fresher one is being calculated.</p>`
      : `<p class="muted">Result ${age} (at <time datetime="${when}">${when}</time>).</p>`;
    return htmlPage(report.title, `${top}<main id="result" data-state="ready">${report.renderHtml(answer.result, params as never)}</main>${note}${links}`);
  }
  if (answer.state === 'failed') {
    const code = answer.error.code === undefined ? '' : ` <code>${escapeHtml(answer.error.code)}</code>`;
    return htmlPage(
      report.title,
      `${top}<main class="failed" data-state="failed"><p><strong>The report could not be calculated.</strong>${code}</p>` +
        `<p id="error">${escapeHtml(answer.error.message)}</p>` +
        `<form method="post" action="${escapeHtml(options.retryPath)}"><button type="submit" id="retry">Try again</button></form></main>${links}`,
    );
  }
  const elapsed = Math.max(0, Math.round((now - answer.since) / 1000));
  const progress = options.progress;
  const bar =
    progress === undefined ? '<progress id="bar" hidden></progress> ' : `<progress id="bar" max="${progress.partitions}" value="${progress.partitionsDone}"></progress> `;
  const script = `<script>
(() => {
  const started = ${answer.since};
  const state = document.getElementById('state');
  const progress = document.getElementById('progress');
  const bar = document.getElementById('bar');
  const elapsed = document.getElementById('elapsed');
  const words = (body) => {
    if (body.phase === 'queued') return 'waiting for a worker';
    const p = body.progress;
    if (!p) return 'calculating';
    const read = p.partitionsDone + ' of ' + p.partitions + ' partitions read';
    return p.partitionsDone >= p.partitions ? read + '; combining' : read;
  };
  const tick = () => { elapsed.textContent = Math.max(0, Math.round((Date.now() - started) / 1000)) + ' s'; };
  setInterval(tick, 1000);
  const poll = async () => {
    try {
      const response = await fetch(location.href, { headers: { accept: 'application/json' }, cache: 'no-store' });
      const body = await response.json();
      if (body.state === 'pending') {
        state.textContent = body.phase;
        progress.textContent = words(body);
        if (body.progress) { bar.max = body.progress.partitions; bar.value = body.progress.partitionsDone; bar.hidden = false; }
      }
      else { location.reload(); return; }
    } catch (e) { /* keep polling */ }
    setTimeout(poll, ${POLL_SECONDS * 1000});
  };
  setTimeout(poll, ${POLL_SECONDS * 1000});
})();
</script>`;
  return htmlPage(
    report.title,
    `${top}<main data-state="pending"><p id="calculating">Calculating… <span class="state" id="state">${answer.phase}</span> <span id="elapsed">${elapsed} s</span></p>` +
      `<p>${bar}<span id="progress">${escapeHtml(progressInWords(answer.phase, progress))}</span></p>` +
      `<p class="muted">This page updates by itself.</p></main>${links}${script}`,
    `<noscript><meta http-equiv="refresh" content="${POLL_SECONDS}"></noscript>`,
  );
}

/** `GET /reports` for a browser: every report, its parameters, and links (relative to `reports`). */
export function renderReportIndex(all: readonly AnyReport[]): string {
  const sections = all
    .map((report) => {
      const defaults = Object.fromEntries(Object.entries(report.params).map(([k, spec]) => [k, spec.default]));
      return (
        `<section class="report" id="report-${escapeHtml(report.name)}"><h2><a href="reports/${escapeHtml(report.name)}">${escapeHtml(report.title)}</a></h2>` +
        `<p>${escapeHtml(report.description)}</p>${paramsTable(report)}` +
        `<p class="muted">With every default: <a href="reports/${escapeHtml(report.name)}?${escapeHtml(queryOf(defaults))}"><code>reports/${escapeHtml(report.name)}?${escapeHtml(queryOf(defaults))}</code></a>. ` +
        `Parameters go in the query string; JSON clients get the same report as JSON.</p></section>`
      );
    })
    .join('');
  return htmlPage('Reports', `<h1>Reports</h1><p class="muted">Each report is computed in the background, cached, and shown as soon as it is ready.</p>${sections}`);
}

/** A 400 page: each bad parameter and what it allows, the parameter table, and a link to the report with its defaults. */
export function renderParamsError(report: AnyReport, problems: readonly ParamProblem[], all: readonly AnyReport[]): string {
  const items = problems.map((p) => `<li><code>${escapeHtml(p.name)}</code>: ${escapeHtml(p.message)}. Allowed: ${escapeHtml(p.allowed)}.</li>`).join('');
  return htmlPage(
    `${report.title}: bad parameters`,
    `<h1>${escapeHtml(report.title)}</h1><main class="problem" data-status="400"><p><strong>The report cannot be calculated with these parameters.</strong></p>` +
      `<ul id="problems">${items}</ul><p>Fix them in the address, or <a href="${escapeHtml(report.name)}" id="defaults">open the report with its defaults</a>.</p></main>` +
      `<h2>Parameters</h2>${paramsTable(report)}${nav(all, report.name)}`,
  );
}

/** A 404 page for a report name that does not exist, listing the ones that do. */
export function renderUnknownReport(name: string, all: readonly AnyReport[]): string {
  const items = all.map((r) => `<li><a href="${escapeHtml(r.name)}">${escapeHtml(r.title)}</a> <code>${escapeHtml(r.name)}</code></li>`).join('');
  return htmlPage(
    'No such report',
    `<h1>No such report</h1><main class="problem" data-status="404"><p id="message">There is no report named “${escapeHtml(name)}”.</p>` +
      `<p>The reports are:</p><ul>${items}</ul></main><nav><a href="../reports" id="all-reports">All reports</a></nav>`,
  );
}
