/**
 * The report page for browsers. While pending it refreshes itself (a meta
 * refresh inside <noscript>, so it works without JavaScript); with JavaScript
 * it polls the JSON answer, shows the state and elapsed time in place, and
 * reloads once the report is ready or failed. Ready shows the result; failed
 * shows the error and a retry button.
 */
import type { FlightAnswer } from '../coordination/single-flight.js';
import type { ParamSpecs } from './report-params.js';
import { escapeHtml, type ReportDefinition } from './report.js';

export const POLL_SECONDS = 2;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem;margin-bottom:.25rem}.muted{color:#667}.figure{font-size:3rem;font-weight:700;margin:.5rem 0}
.state{display:inline-block;padding:.1rem .6rem;border-radius:1rem;background:#eef;font-weight:600}
.failed{background:#fee;border:1px solid #e99;padding:1rem;border-radius:.5rem}table{border-collapse:collapse}
td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}button{font:inherit;padding:.4rem 1rem}`;

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>${head}<style>${STYLE}</style></head><body>${body}</body></html>`;
}

function heading(report: ReportDefinition<ParamSpecs, unknown>, params: Readonly<Record<string, number | string>>): string {
  const shown = Object.entries(params).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(v))}`).join(', ');
  return `<h1>${escapeHtml(report.title)}</h1><p class="muted">${escapeHtml(report.description)}<br>${shown}</p>`;
}

export function renderReportPage(
  report: ReportDefinition<ParamSpecs, unknown>,
  params: Readonly<Record<string, number | string>>,
  answer: FlightAnswer,
  retryPath: string,
  now: number,
): string {
  const top = heading(report, params);
  if (answer.state === 'ready') {
    const when = new Date(answer.computedAt).toISOString();
    const note = answer.stale
      ? `<p class="muted" id="stale">Computed at ${when}; a fresher one is being calculated.</p>`
      : `<p class="muted">Computed at ${when}.</p>`;
    return page(report.title, `${top}<main id="result" data-state="ready">${report.renderHtml(answer.result, params as never)}</main>${note}`);
  }
  if (answer.state === 'failed') {
    const code = answer.error.code === undefined ? '' : ` <code>${escapeHtml(answer.error.code)}</code>`;
    return page(
      report.title,
      `${top}<main class="failed" data-state="failed"><p><strong>The report could not be calculated.</strong>${code}</p>` +
        `<p id="error">${escapeHtml(answer.error.message)}</p>` +
        `<form method="post" action="${escapeHtml(retryPath)}"><button type="submit" id="retry">Try again</button></form></main>`,
    );
  }
  const elapsed = Math.max(0, Math.round((now - answer.since) / 1000));
  const script = `<script>
(() => {
  const started = ${answer.since};
  const state = document.getElementById('state');
  const elapsed = document.getElementById('elapsed');
  const tick = () => { elapsed.textContent = Math.max(0, Math.round((Date.now() - started) / 1000)) + ' s'; };
  setInterval(tick, 1000);
  const poll = async () => {
    try {
      const response = await fetch(location.href, { headers: { accept: 'application/json' }, cache: 'no-store' });
      const body = await response.json();
      if (body.state === 'pending') { state.textContent = body.phase; }
      else { location.reload(); return; }
    } catch (e) { /* keep polling */ }
    setTimeout(poll, ${POLL_SECONDS * 1000});
  };
  setTimeout(poll, ${POLL_SECONDS * 1000});
})();
</script>`;
  return page(
    report.title,
    `${top}<main data-state="pending"><p id="calculating">Calculating… <span class="state" id="state">${answer.phase}</span> <span id="elapsed">${elapsed} s</span></p>` +
      `<p class="muted">This page updates by itself.</p></main>${script}`,
    `<noscript><meta http-equiv="refresh" content="${POLL_SECONDS}"></noscript>`,
  );
}
