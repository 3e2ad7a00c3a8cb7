/**
 * Signing up and onboarding, once (the seed's welcome email): `POST /users`
 * commits the user and the onboarding job in one transaction (the outbox);
 * the job sends a welcome email, then an SMS.
 *
 * Each send is wrapped in `once`, keyed by user and message, so duplicate
 * jobs, duplicate deliveries, retries after the SMS failed and concurrent
 * workers call each provider once in the normal case; the provider's
 * idempotency key (the same key) turns the rare repeat call (a worker that
 * died after the provider answered and before `once` recorded it) into no
 * second delivery. Each message reaches the user exactly once.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, jobs, NonRetryableError, once, seconds, tableName, z, defineTask, type EnqueuedJob, type TransactItem } from 'ferry';
import { send } from './providers.js';

export interface User {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly createdAt: string;
  /** The signup's onboarding job. */
  readonly onboardingJob: string;
}

export const signupInput = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id must be 1-64 letters, digits, "_" or "-"'),
  name: z.string().trim().min(1).max(200),
  email: z.email().max(254),
  phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'phone must be E.164, such as +15550100'),
  /** Fault injection for the demo and tests: the SMS provider fails this many calls first. */
  simulate: z.object({ smsFailures: z.number().int().min(0).max(5).default(0) }).strict().default({ smsFailures: 0 }),
}).strict();
export type Signup = z.output<typeof signupInput>;

const table = () => tableName('notes');

export async function getUser(id: string): Promise<User | undefined> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: table(), Key: { pk: 'USERS', sk: id }, ConsistentRead: true }));
  if (Item === undefined) return undefined;
  const { pk: _pk, sk: _sk, smsFailuresLeft: _left, ...user } = Item;
  return user as User;
}

export const onboard = defineTask({
  name: 'notes.onboard',
  queue: 'io',
  input: z.object({ userId: z.string().min(1) }),
  retry: { maxAttempts: 8, baseDelay: seconds(1), maxDelay: seconds(10) },
  timeout: seconds(20),
  run: async ({ userId }) => {
    const user = await getUser(userId);
    if (user === undefined) throw new NonRetryableError(`no user ${userId}`);
    // A worker that died mid-send holds the key this long; then another delivery sends (the provider's key stops a second delivery).
    const inProgressFor = seconds(30);
    const email = await once(`welcome-email:${userId}`, () => send('email', { userId, to: user.email, text: `Welcome, ${user.name}!`, idempotencyKey: `welcome-email:${userId}` }), { inProgressFor });
    const sms = await once(`welcome-sms:${userId}`, () => send('sms', { userId, to: user.phone, text: 'Welcome to Notes.', idempotencyKey: `welcome-sms:${userId}` }), { inProgressFor });
    return { userId, email: email.ran ? 'sent' : 'sent before', sms: sms.ran ? 'sent' : 'sent before' };
  },
});

/** The signup's writes: the user, refused if the id is taken. */
function userPut(signup: Signup, jobId: string, createdAt: string): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: {
        pk: 'USERS',
        sk: signup.id,
        id: signup.id,
        name: signup.name,
        email: signup.email,
        phone: signup.phone,
        createdAt,
        onboardingJob: jobId,
        smsFailuresLeft: signup.simulate.smsFailures,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/**
 * The user and the onboarding job, committed together. The job's id comes
 * from the user's: a client retrying a signup whose answer it lost gets the
 * same job back (`deduplicated`), not a second one.
 */
export async function signUp(signup: Signup): Promise<EnqueuedJob> {
  const jobId = `onboard-${signup.id}`;
  return jobs.enqueueWith([userPut(signup, jobId, new Date().toISOString())], onboard, { userId: signup.id }, { jobId });
}

/**
 * Onboarding asked again for an existing user (a second click, a support
 * tool): another job, through the outbox like every job of this API (its
 * function may write the outbox, not send); each message still goes out once.
 */
export async function onboardAgain(userId: string): Promise<EnqueuedJob> {
  return jobs.enqueueWith([], onboard, { userId });
}
