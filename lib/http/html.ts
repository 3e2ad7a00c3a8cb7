/**
 * HTML for people: content negotiation (browsers ask for `text/html`, API
 * clients get JSON), escaping, one page shell, and the error page a browser
 * gets instead of a JSON error body. Links in Ferry's pages are relative, so
 * they work under any API Gateway stage path.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Escapes text for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A header's value, whatever its case (API Gateway passes headers as the client sent them). */
export function headerOf(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted && value !== undefined) return value;
  return undefined;
}

/** Browsers ask for HTML; API clients (and anything that names JSON) get JSON. */
export function wantsHtml(event: Pick<APIGatewayProxyEvent, 'headers'>): boolean {
  const accept = (headerOf(event, 'accept') ?? '').toLowerCase();
  return accept.includes('text/html') && !accept.includes('application/json');
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin:1.5rem 0 .25rem}.muted{color:#667}.figure{font-size:3rem;font-weight:700;margin:.5rem 0}
.state{display:inline-block;padding:.1rem .6rem;border-radius:1rem;background:#eef;font-weight:600}
.failed,.problem{background:#fee;border:1px solid #e99;padding:1rem;border-radius:.5rem}table{border-collapse:collapse}
td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}button{font:inherit;padding:.4rem 1rem}
progress{width:16rem;vertical-align:middle}nav{margin-top:2rem;border-top:1px solid #ddd;padding-top:.5rem}code{background:#f3f3f6;padding:0 .25rem;border-radius:.25rem}`;

/** A whole HTML document: `title` escaped here, `body` and `head` already HTML. */
export function htmlPage(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>${head}<style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function htmlResponse(status: number, html: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', vary: 'Accept', ...headers }, body: html };
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Not available yet',
};

/** The generic error page: the status, what went wrong, and (HTML) advice on what to do. */
export function errorPage(status: number, message: string, adviceHtml = ''): string {
  const reason = REASONS[status] ?? (status >= 500 ? 'Server error' : 'Request error');
  return htmlPage(
    `${status} ${reason}`,
    `<h1>${status} ${escapeHtml(reason)}</h1><main class="problem" data-status="${status}"><p id="message">${escapeHtml(message)}</p>${adviceHtml}</main>`,
  );
}
