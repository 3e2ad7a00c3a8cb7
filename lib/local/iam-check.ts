/**
 * IAM, enforced on the local runtime: every DynamoDB and SQS call a function
 * makes during an invocation is checked against the policy the deployed stack
 * gives that function (deployed-policies.ts), action by action and resource by
 * resource, as IAM evaluates an identity policy: allowed only if a statement
 * allows it and none denies it. A call outside the policy fails with
 * `AccessDeniedException` before it is sent, as it would on AWS, and the
 * runtime logs the function, action and resource.
 *
 * The check is an SDK middleware on the clients Ferry's code uses
 * (`lib/aws/clients.ts`); it knows which function is calling from the
 * invocation scope the function host runs each handler in. Calls made outside
 * an invocation (the runtime's own provisioning and polling, tests acting as
 * an administrator) are not checked.
 */
import type { InitializeHandlerOptions, InitializeMiddleware, MetadataBearer, Pluggable } from '@smithy/types';
import type { LocalStatement } from './deployed-policies.js';
import { currentInvocation } from './invocation-scope.js';

/** One permission a call needs: an IAM action on a resource ARN. */
export interface Permission {
  readonly action: string;
  readonly resource: string;
}

/** What the check needs to name resources as ARNs. */
export interface ArnResolver {
  /** ARN of the table named `name`. */
  table(name: string): string;
  /** ARN of the queue at `url`. */
  queue(url: string): string;
  /** ARN of the queue named `name` (`*` for every queue of the account, as ListQueues needs). */
  queueNamed(name: string): string;
}

/** The principal a refusal names: the function's role session, as AWS names it. */
export function principalOf(physicalName: string): string {
  return `arn:aws:sts::000000000000:assumed-role/${physicalName}-role/${physicalName}`;
}

/** The runtime's log line for a refusal: function, action, resource, and the error the function got. */
export function denialLine(error: AccessDeniedException): string {
  return `IAM: function "${error.functionId}" was refused ${error.permission.action} on ${error.permission.resource}: the deployed stack does not grant it (${error.name})`;
}

/**
 * ARNs of the local resources, by table name and by queue URL; a name or URL
 * the runtime did not provision gets an ARN in the local account, which no
 * policy names.
 */
export function localArns(tables: Readonly<Record<string, string>>, queues: Readonly<Record<string, string>>, region: string): ArnResolver {
  const tableArns = new Map(Object.entries(tables));
  const queueArns = new Map(Object.entries(queues));
  const account = `000000000000`;
  return {
    table: (name) => tableArns.get(name) ?? `arn:aws:dynamodb:${region}:${account}:table/${name}`,
    queue: (url) => queueArns.get(url) ?? `arn:aws:sqs:${region}:${account}:${url.slice(url.lastIndexOf('/') + 1)}`,
    queueNamed: (name) => [...queueArns.values()].find((arn) => arn.endsWith(`:${name}`)) ?? `arn:aws:sqs:${region}:${account}:${name}`,
  };
}

/**
 * The call was refused by the function's policy, as AWS refuses it. The SDK
 * surfaces DynamoDB's refusal as `AccessDeniedException` (HTTP 400) and SQS's
 * as `AccessDenied` (HTTP 403, `Type: Sender`); this error takes the same
 * name, code and status for each service.
 */
export class AccessDeniedException extends Error {
  override readonly name: 'AccessDeniedException' | 'AccessDenied';
  readonly Code: string;
  readonly Type = 'Sender';
  readonly $fault = 'client';
  readonly $metadata: MetadataBearer['$metadata'];
  constructor(
    readonly functionId: string,
    readonly principal: string,
    readonly permission: Permission,
    /** A statement denied it explicitly (rather than none allowing it). */
    readonly explicitDeny = false,
  ) {
    super(
      `User: ${principal} is not authorized to perform: ${permission.action} on resource: ${permission.resource} ` +
        (explicitDeny ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${permission.action} action`),
    );
    const sqs = permission.action.toLowerCase().startsWith('sqs:');
    this.name = sqs ? 'AccessDenied' : 'AccessDeniedException';
    this.Code = this.name;
    this.$metadata = { httpStatusCode: sqs ? 403 : 400 };
  }
}

type Input = Record<string, unknown>;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The table (or index) resource of a DynamoDB input naming `TableName`. */
function tableResource(input: Input, arns: ArnResolver): string {
  const table = arns.table(str(input.TableName) ?? '');
  const index = str(input.IndexName);
  return index === undefined ? table : `${table}/index/${index}`;
}

/** The DynamoDB action and resource of each item of a transaction. */
const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/** SQS batch calls are authorized as their single-message action. */
const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * The permissions an SDK call needs, from its client, command and input, as
 * the service reference for authorization defines them: a batch or a
 * transaction needs its constituent actions on every table it names.
 */
export function permissionsOf(clientName: string, commandName: string, input: Input, arns: ArnResolver): Permission[] {
  const operation = commandName.replace(/Command$/, '');
  if (clientName.startsWith('DynamoDBStreams')) {
    // Stream reads name the stream by ARN; the runtime's event source makes them, never a function here.
    return [{ action: `dynamodb:${operation}`, resource: str(input.StreamArn) ?? '*' }];
  }
  if (clientName.startsWith('DynamoDB')) {
    switch (operation) {
      case 'ListTables':
        return [{ action: 'dynamodb:ListTables', resource: '*' }];
      case 'BatchGetItem':
      case 'BatchWriteItem':
        return Object.keys((input.RequestItems as Input | undefined) ?? {}).map((table) => ({ action: `dynamodb:${operation}`, resource: arns.table(table) }));
      case 'TransactWriteItems':
      case 'TransactGetItems':
        return ((input.TransactItems as Input[] | undefined) ?? []).flatMap((item) =>
          Object.entries(item).map(([kind, body]) => ({
            action: TRANSACT_ACTIONS[kind] ?? `dynamodb:${kind}`,
            resource: arns.table(str((body as Input | undefined)?.TableName) ?? ''),
          })),
        );
      default:
        return [{ action: `dynamodb:${operation}`, resource: tableResource(input, arns) }];
    }
  }
  if (clientName.startsWith('SQS')) {
    const action = `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`;
    const url = str(input.QueueUrl);
    // GetQueueUrl names its queue by name; ListQueues names none (its resource is every queue of the account).
    return [{ action, resource: url !== undefined ? arns.queue(url) : arns.queueNamed(str(input.QueueName) ?? '*') }];
  }
  return [{ action: `${clientName.replace(/Client$/, '').toLowerCase()}:${operation}`, resource: '*' }];
}

/** IAM's wildcard match: `*` any run of characters, `?` one; case-sensitive unless `ignoreCase`. */
export function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** How `statements` decide `permission`: an explicit deny wins, then an allow; otherwise it is implicitly denied. */
export function decide(statements: readonly LocalStatement[], permission: Permission): 'allowed' | 'denied' | 'explicitly-denied' {
  const matches = (s: LocalStatement) =>
    s.actions.some((a) => iamMatch(a, permission.action, true)) && s.resources.some((r) => iamMatch(r, permission.resource));
  if (statements.some((s) => s.effect === 'Deny' && matches(s))) return 'explicitly-denied';
  return statements.some((s) => s.effect === 'Allow' && matches(s)) ? 'allowed' : 'denied';
}

/** Whether `statements` allow `permission`: some statement allows it and none denies it (actions match case-insensitively). */
export function isAllowed(statements: readonly LocalStatement[], permission: Permission): boolean {
  return decide(statements, permission) === 'allowed';
}

export interface IamCheckOptions {
  /** Policy statements by declared function id. */
  readonly policies: ReadonlyMap<string, readonly LocalStatement[]>;
  readonly arns: ArnResolver;
  /** The principal named in a refusal, as AWS names the function's role session. */
  readonly principalOf: (functionId: string) => string;
  /** Called with each refusal before it is thrown. */
  readonly onDenied: (error: AccessDeniedException) => void;
  /** Called for each call checked (allowed or not). @default nothing */
  readonly onChecked?: () => void;
}

/** The SDK plugin that checks every call made inside an invocation; see the file comment. */
export function iamCheckPlugin(options: IamCheckOptions): Pluggable<object, MetadataBearer> {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const invocation = currentInvocation();
    if (invocation !== undefined) {
      options.onChecked?.();
      const statements = options.policies.get(invocation.functionId) ?? [];
      const clientName = String(context.clientName ?? '');
      const commandName = String(context.commandName ?? '');
      for (const permission of permissionsOf(clientName, commandName, args.input as Input, options.arns)) {
        const decision = decide(statements, permission);
        if (decision !== 'allowed') {
          const error = new AccessDeniedException(invocation.functionId, options.principalOf(invocation.functionId), permission, decision === 'explicitly-denied');
          options.onDenied(error);
          throw error;
        }
      }
    }
    return next(args);
  };
  const placement: InitializeHandlerOptions = { step: 'initialize', name: 'ferryLocalIamCheck', override: true };
  return { applyToStack: (stack) => stack.add(middleware, placement) };
}
