/**
 * The environment variables through which a function learns the physical names
 * of the resources it uses. Names are derived from the resource's id in the
 * declaration, so they are written nowhere else.
 */

/** `pageViews` → `PAGE_VIEWS`. */
function screaming(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The variable holding the name of table `id`, e.g. `FERRY_TABLE_STATE`. */
export function tableEnvName(tableId: string): string {
  return `FERRY_TABLE_${screaming(tableId)}`;
}

/** The variable holding the URL of queue `id`, e.g. `FERRY_QUEUE_IO_URL`. */
export function queueUrlEnvName(queueId: string): string {
  return `FERRY_QUEUE_${screaming(queueId)}_URL`;
}

/** The variable holding the URL of the dead-letter queue of queue `id`. */
export function deadLetterQueueUrlEnvName(queueId: string): string {
  return `FERRY_QUEUE_${screaming(queueId)}_DLQ_URL`;
}

/** Thrown when a handler asks for a resource its function does not declare. */
export class MissingResourceEnvError extends Error {
  override readonly name = 'MissingResourceEnvError';
  constructor(
    readonly variable: string,
    readonly resource: string,
  ) {
    super(
      `${variable} is not set: the function must declare ${resource} under "uses" in the app's declaration ` +
        '(defineApp; the CDK stack and the local runtime set it from there)',
    );
  }
}

function read(variable: string, resource: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new MissingResourceEnvError(variable, resource);
  return value;
}

/** Physical name of table `tableId`, read from the environment at call time. */
export function tableName(tableId: string): string {
  return read(tableEnvName(tableId), `uses.tables.${tableId}`);
}

/** URL of queue `queueId`, read from the environment at call time. */
export function queueUrl(queueId: string): string {
  return read(queueUrlEnvName(queueId), `uses.queues.${queueId}`);
}

/** URL of the dead-letter queue of `queueId`, read from the environment at call time. */
export function deadLetterQueueUrl(queueId: string): string {
  return read(deadLetterQueueUrlEnvName(queueId), `uses.queues.${queueId}`);
}
