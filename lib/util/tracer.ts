/**
 * X-Ray subsegments, written by Powertools for AWS Lambda (Tracer) under the
 * segment Lambda records for each invocation when the function has active
 * tracing (FerryFunction turns it on): one per AWS SDK call of Ferry's
 * clients, and one per job a worker runs, annotated with the job's id and the
 * trace it belongs to, its task, queue, attempt and outcome as metadata.
 *
 * X-Ray indexes at most 50 annotations per trace, and the jobs of one SQS
 * batch (up to 10, or thousands with a batching window) share the
 * invocation's trace: each job spends two annotations, the ones worth a
 * filter expression, and everything else is metadata (unindexed, no limit
 * but the 64 KB document). A batch of more than 25 jobs leaves the later
 * jobs' annotations unindexed; their subsegments still hold them.
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

/** The namespace of the metadata Ferry records on its subsegments. */
export const METADATA_NAMESPACE = 'ferry';

/** Records a metadata value on the running subsegment (a no-op without tracing). */
export type RecordMetadata = (key: string, value: unknown) => void;

/**
 * Runs `fn` in a subsegment of its own named `name`, with `annotations`
 * (keep them few: see above) and `metadata` (more can be recorded through the
 * function given to `fn`); an error `fn` throws is recorded on it. Without
 * tracing, or outside a segment, just runs `fn`.
 */
export async function inSubsegment<T>(
  name: string,
  annotations: Readonly<Record<string, Annotation>>,
  metadata: Readonly<Record<string, unknown>>,
  fn: (record: RecordMetadata) => Promise<T>,
): Promise<T> {
  const t = tracer();
  // The provider's lookup, not Tracer.getSegment(), which warns on the console when there is none.
  if (!t.isTracingEnabled() || t.provider.getSegment() === undefined) return fn(() => undefined);
  return t.provider.captureAsyncFunc(name, async (subsegment): Promise<T> => {
    if (subsegment === undefined) return fn(() => undefined);
    for (const [key, value] of Object.entries(annotations)) subsegment.addAnnotation(key, value);
    const record: RecordMetadata = (key, value) => subsegment.addMetadata(key, value, METADATA_NAMESPACE);
    for (const [key, value] of Object.entries(metadata)) record(key, value);
    try {
      return await fn(record);
    } catch (error) {
      subsegment.addError(error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      subsegment.close();
    }
  }) as Promise<T>;
}
