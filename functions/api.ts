/** Lambda entry point of the REST API (API Gateway v1 proxy integration). */
export { api as handler } from '../lib/api/api.js';
