/** Lambda entry point of the report service's REST API (API Gateway v1 proxy integration). */
export { api as handler } from '../app/api.js';
