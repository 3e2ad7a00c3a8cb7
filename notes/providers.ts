/**
 * Fake email and SMS providers that count what they are asked to do, kept in
 * the `notes` table so every worker sees the same mailbox. Like real
 * providers' APIs that take an idempotency key, a send repeated with the
 * same key is accepted and not delivered twice; every call is counted, so a
 * test sees both how often Ferry called (`calls`) and what reached the user
 * (`delivered`).
 *
 * Fault injection, for the demo and the tests: a user signed up with
 * `simulate.smsFailures: n` makes the SMS provider fail its first `n` calls
 * for that user, after the email went out.
 */
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { applied, documentClient, tableName, transactWrite } from 'ferry';

export type Channel = 'email' | 'sms';

export interface Mailbox {
  /** Calls made to the provider, failed ones included. */
  readonly calls: number;
  /** Messages that reached the user. */
  readonly delivered: number;
  /** Calls refused as repeats of a delivered message (same idempotency key). */
  readonly deduplicated: number;
}

/** The provider is down: retry later. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
}

const table = () => tableName('notes');
const mailboxKey = (channel: Channel, userId: string) => ({ pk: `MAILBOX#${channel}`, sk: userId });

async function count(channel: Channel, userId: string, what: 'calls' | 'deduplicated'): Promise<void> {
  await documentClient().send(
    new UpdateCommand({ TableName: table(), Key: mailboxKey(channel, userId), UpdateExpression: 'ADD #what :one', ExpressionAttributeNames: { '#what': what }, ExpressionAttributeValues: { ':one': 1 } }),
  );
}

/** Fails this call if the user asked for an SMS outage and it has failures left (one conditional write). */
async function injectedOutage(channel: Channel, userId: string): Promise<boolean> {
  if (channel !== 'sms') return false;
  return applied(
    documentClient().send(
      new UpdateCommand({
        TableName: table(),
        Key: { pk: 'USERS', sk: userId },
        UpdateExpression: 'ADD smsFailuresLeft :minus',
        ConditionExpression: 'smsFailuresLeft > :zero',
        ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
      }),
    ),
  );
}

/** Sends `text` to the user; a repeat of `idempotencyKey` is accepted and not delivered again. */
export async function send(channel: Channel, message: { readonly userId: string; readonly to: string; readonly text: string; readonly idempotencyKey: string }): Promise<'delivered' | 'duplicate'> {
  await count(channel, message.userId, 'calls');
  if (await injectedOutage(channel, message.userId)) throw new ProviderUnavailableError(`${channel} provider unavailable (simulated outage)`);
  const refusal = await transactWrite(
    documentClient(),
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: table(),
            Item: { pk: `DELIVERY#${channel}`, sk: message.idempotencyKey, userId: message.userId, to: message.to, text: message.text, at: new Date().toISOString() },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { Update: { TableName: table(), Key: mailboxKey(channel, message.userId), UpdateExpression: 'ADD delivered :one', ExpressionAttributeValues: { ':one': 1 } } },
      ],
    }),
  );
  if (refusal === undefined) return 'delivered';
  await count(channel, message.userId, 'deduplicated');
  return 'duplicate';
}

/** What the provider of `channel` did for `userId`. */
export async function mailbox(channel: Channel, userId: string): Promise<Mailbox> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: table(), Key: mailboxKey(channel, userId), ConsistentRead: true }));
  return { calls: Number(Item?.calls ?? 0), delivered: Number(Item?.delivered ?? 0), deduplicated: Number(Item?.deduplicated ?? 0) };
}
