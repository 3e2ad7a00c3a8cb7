/**
 * X-Ray subsegments, written by Powertools for AWS Lambda (Tracer) under the
 * segment Lambda records for each invocation when the function has active
 * tracing (FerryFunction turns it on): one per AWS SDK call of Ferry's
 * clients, and one per job a worker runs, annotated with the job's id, task,
 * queue, attempt, outcome and the trace it belongs to.
 *
 * An invocation triggered by SQS is traced on its own (X-Ray links it to the
 * senders' traces), so a job's subsegment carries its envelope's trace as the
 * `ferry_trace_id` annotation: the X-Ray filter
 * `annotation.ferry_trace_id = "1-…"` finds every invocation that ran a job of
 * one request, and `annotation.ferry_job_id = "…"` the attempts of one job.
 *
 * Outside Lambda (no `AWS_EXECUTION_ENV`) Powertools turns tracing off and
 * these are no-ops. Tracer's patching of every HTTP request is left off: the
 * SDK calls are captured per client, and the endpoints of an app's own
 * requests are the app's to trace.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

let powertools: Tracer | undefined;

function tracer(): Tracer {
  powertools ??= new Tracer({ captureHTTPsRequests: false });
  return powertools;
}

/** `client` with a subsegment per call (service, operation, table or queue, retries, errors), when tracing is on. */
export function tracedClient<C>(client: C): C {
  return tracer().captureAWSv3Client(client);
}

/** An X-Ray annotation value (indexed, searchable with a filter expression). */
export type Annotation = string | number | boolean;

/**
 * Runs `fn` in a subsegment of its own named `name`, with `annotations`
 * (more can be added through the function given to `fn`); an error `fn`
 * throws is recorded on it. Without tracing, just runs `fn`.
 */
export async function inSubsegment<T>(name: string, annotations: Readonly<Record<string, Annotation>>, fn: (annotate: (key: string, value: Annotation) => void) => Promise<T>): Promise<T> {
  const t = tracer();
  if (!t.isTracingEnabled() || t.getSegment() === undefined) return fn(() => undefined);
  return t.provider.captureAsyncFunc(name, async (subsegment): Promise<T> => {
    if (subsegment === undefined) return fn(() => undefined);
    const annotate = (key: string, value: Annotation) => subsegment.addAnnotation(key, value);
    for (const [key, value] of Object.entries(annotations)) annotate(key, value);
    try {
      return await fn(annotate);
    } catch (error) {
      subsegment.addError(error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      subsegment.close();
    }
  }) as Promise<T>;
}
