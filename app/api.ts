/** The REST API's routes. Each is declared as an `http` event of the `api` function in app/resources.ts. */
import { apiPath, createRestApi, HttpError, json, jsonBody } from 'ferry';
import { createPing, getPing, InvalidPingError, isPingId } from './demo/pings.js';
import { getReport, listReports, reportErrorPage, retryReport } from './reports/report-api.js';

export const api = createRestApi({
  'GET /health': async () => json(200, { status: 'ok', service: 'ferry', time: new Date().toISOString() }),

  'POST /pings': async (event) => {
    const body = jsonBody(event);
    try {
      const { ping, jobId } = await createPing(body.message, body.pool ?? 'io');
      return json(202, { ping, jobId }, { location: apiPath(event, `/pings/${ping.id}`) });
    } catch (error) {
      if (error instanceof InvalidPingError) throw new HttpError(400, error.message);
      throw error;
    }
  },

  'GET /reports': listReports,
  'GET /reports/{name}': getReport,
  'POST /reports/{name}/retry': retryReport,

  'GET /pings/{id}': async (event) => {
    const id = event.pathParameters?.id ?? '';
    // Checked before the lookup: an id that is no UUID names no ping, and one over DynamoDB's key size would fail the read.
    if (!isPingId(id)) throw new HttpError(400, `"id" must be a ping id, a UUID such as 3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60 (got ${shownId(id)})`);
    const ping = await getPing(id);
    if (ping === undefined) throw new HttpError(404, `no ping ${id}`);
    return json(200, { ping });
  },
}, { errorPage: reportErrorPage });

/** A client's id for an error message: JSON, cut short (a path can be kilobytes long). */
function shownId(id: string): string {
  const text = JSON.stringify(id);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
