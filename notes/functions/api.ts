/** Lambda entry point of the notes service's REST API (API Gateway v1 proxy integration). */
export { api as handler } from '../api.js';
