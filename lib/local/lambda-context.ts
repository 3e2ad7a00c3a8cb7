/** A Lambda `context` object as the Node.js runtime builds it, for local invocations. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface ContextOptions {
  readonly functionName: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly region: string;
  readonly accountId: string;
  /** @default a new UUID */
  readonly requestId?: string;
}

export function createLambdaContext(options: ContextOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const awsRequestId = options.requestId ?? randomUUID();
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported on the nodejs22.x runtime; return a value or throw from an async handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${options.accountId}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
