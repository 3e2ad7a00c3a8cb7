/**
 * SDK clients pointed explicitly at the local emulators, for the runtime's own
 * work (provisioning, event source polling) and for tests. Handlers never use
 * these: they get their endpoints from the `AWS_ENDPOINT_URL*` variables.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EmulatorEndpoints } from './emulator-protocol.js';

export const LOCAL_REGION = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  destroy(): void;
}

export function localClients(endpoints: Pick<EmulatorEndpoints, 'dynamodbEndpoint' | 'sqsEndpoint'>): LocalClients {
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodbEndpoint, region: LOCAL_REGION, credentials });
  const streams = new DynamoDBStreamsClient({ endpoint: endpoints.dynamodbEndpoint, region: LOCAL_REGION, credentials });
  const sqs = new SQSClient({ endpoint: endpoints.sqsEndpoint, region: LOCAL_REGION, credentials, useQueueUrlAsEndpoint: false });
  return { dynamodb, streams, sqs, destroy: () => [dynamodb, streams, sqs].forEach((c) => c.destroy()) };
}
