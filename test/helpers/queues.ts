/** Reads queue contents without consuming them, through fauxqs's inspection endpoint. */
import type { LocalRuntime } from '../../lib/local/runtime.js';

export interface InspectedMessage {
  readonly body: string;
  readonly messageAttributes: Record<string, { DataType?: string; StringValue?: string }>;
}

export interface InspectedQueue {
  readonly ready: readonly InspectedMessage[];
  readonly delayed: readonly InspectedMessage[];
  readonly inflight: readonly { message: InspectedMessage }[];
}

export async function inspectQueue(runtime: LocalRuntime, queueName: string): Promise<InspectedQueue> {
  const response = await fetch(`${runtime.endpoints.sqsEndpoint}/_fauxqs/queues/${queueName}`);
  if (!response.ok) throw new Error(`fauxqs answered ${response.status} for queue ${queueName}`);
  return ((await response.json()) as { messages: InspectedQueue }).messages;
}
