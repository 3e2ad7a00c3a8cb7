/**
 * The AWS clients Ferry uses, created once per process. Endpoints come only
 * from the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SQS` /
 * `AWS_ENDPOINT_URL_DYNAMODB` variables, which the SDK reads itself: the same
 * code runs against AWS, LocalStack and the local emulators.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { MetadataBearer, Pluggable } from '@smithy/types';
import { conflictRetry } from './conflict-retry.js';
import { tracedClient } from '../util/tracer.js';

let sqs: SQSClient | undefined;
let dynamodb: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let cloudwatch: CloudWatchClient | undefined;
/**
 * Kept on `globalThis`, so that every copy of this module in the process (a
 * function's bundle carries its own) shares one list.
 */
const PLUGINS = Symbol.for('ferry.aws.clientPlugins');
const plugins: Pluggable<object, MetadataBearer>[] = ((globalThis as unknown as Record<symbol, Pluggable<object, MetadataBearer>[] | undefined>)[PLUGINS] ??= []);

/**
 * Adds SDK middleware to every client Ferry creates, now and later. Nothing
 * on AWS uses it; the local runtime adds its IAM check (lib/local/iam-check.ts)
 * here, so handlers run the same code everywhere.
 * @returns a function that removes the plugin (the clients are made anew without it)
 */
export function useClientPlugin(plugin: Pluggable<object, MetadataBearer>): () => void {
  plugins.push(plugin);
  sqs?.middlewareStack.use(plugin);
  dynamodb?.middlewareStack.use(plugin);
  cloudwatch?.middlewareStack.use(plugin);
  return () => {
    plugins.splice(plugins.indexOf(plugin), 1);
    sqs?.destroy();
    dynamodb?.destroy();
    cloudwatch?.destroy();
    sqs = undefined;
    dynamodb = undefined;
    documents = undefined;
    cloudwatch = undefined;
  };
}

function withPlugins<C extends { middlewareStack: { use(plugin: never): void } }>(client: C): C {
  for (const plugin of plugins) client.middlewareStack.use(plugin as never);
  return client;
}

export function sqsClient(): SQSClient {
  // Send each call to the configured endpoint rather than to the host inside
  // the queue URL: emulators hand out URLs with hosts that need not resolve.
  // Each call an X-Ray subsegment when the function is traced (lib/util/tracer.ts).
  sqs ??= withPlugins(tracedClient(new SQSClient({ useQueueUrlAsEndpoint: false })));
  return sqs;
}

export function dynamoDbClient(): DynamoDBClient {
  if (dynamodb === undefined) {
    dynamodb = tracedClient(new DynamoDBClient({}));
    dynamodb.middlewareStack.use(conflictRetry);
    withPlugins(dynamodb);
  }
  return dynamodb;
}

/** CloudWatch, for reading metrics (the console's oldest-message ages); a function needs `uses.metrics: 'read'`. */
export function cloudWatchClient(): CloudWatchClient {
  cloudwatch ??= withPlugins(tracedClient(new CloudWatchClient({})));
  return cloudwatch;
}

/** Document client: plain JavaScript values in and out, `undefined` attributes dropped. */
export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documents;
}
