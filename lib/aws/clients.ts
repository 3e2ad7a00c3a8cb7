/**
 * The AWS clients Ferry uses, created once per process. Endpoints come only
 * from the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SQS` /
 * `AWS_ENDPOINT_URL_DYNAMODB` variables, which the SDK reads itself: the same
 * code runs against AWS, LocalStack and the local emulators.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

let sqs: SQSClient | undefined;
let dynamodb: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;

export function sqsClient(): SQSClient {
  // Send each call to the configured endpoint rather than to the host inside
  // the queue URL: emulators hand out URLs with hosts that need not resolve.
  sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false });
  return sqs;
}

export function dynamoDbClient(): DynamoDBClient {
  dynamodb ??= new DynamoDBClient({});
  return dynamodb;
}

/** Document client: plain JavaScript values in and out, `undefined` attributes dropped. */
export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documents;
}
