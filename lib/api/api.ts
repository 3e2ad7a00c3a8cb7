/** The REST API's routes. Each is declared as an `http` event of the `api` function in lib/resources.ts. */
import { apiPath, createRestApi, HttpError, json, jsonBody } from '../http/rest-api.js';
import { createPing, getPing, InvalidPingError } from '../demo/pings.js';
import { getReport, listReports, reportErrorPage, retryReport } from './report-api.js';

export const api = createRestApi({
  'GET /health': async () => json(200, { status: 'ok', service: 'ferry', time: new Date().toISOString() }),

  'POST /pings': async (event) => {
    const body = jsonBody(event);
    try {
      const { ping, jobId } = await createPing(body.message, event.requestContext.requestId, body.pool ?? 'io');
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
    const ping = await getPing(id);
    if (ping === undefined) throw new HttpError(404, `no ping ${id}`);
    return json(200, { ping });
  },
}, { errorPage: reportErrorPage });
