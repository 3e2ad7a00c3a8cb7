/**
 * A counting proxy that lets Celery's SQS transport talk to fauxqs.
 *
 * Debian's botocore (1.29) and kombu (5.2) speak SQS's query protocol
 * (`Action=ReceiveMessage&...`, form-encoded, XML answers); fauxqs 1.9 speaks
 * only the JSON protocol that the AWS SDK v3 uses (`X-Amz-Target:
 * AmazonSQS.ReceiveMessage`) and routes form-encoded requests to its SNS
 * emulator, which answers "InvalidAction: Unknown action: CreateQueue". AWS
 * accepts both. This proxy translates the actions kombu's SQS transport calls
 * from one to the other, one upstream request per request, and counts them by
 * action: those counts are Celery's broker calls.
 *
 * kombu sends some requests to the queue URL itself (its asynchronous
 * receive, with no `QueueUrl` parameter), so the queue URLs handed to Celery
 * are this proxy's (`queueUrl()`), and the proxy maps them back by path.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SqsQueryProxyOptions {
  /** fauxqs's endpoint (JSON protocol), e.g. `http://127.0.0.1:4566`. */
  readonly upstream: string;
}

export interface SqsQueryProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give boto3 / kombu. */
  readonly endpoint: string;
  /** The proxy's URL for fauxqs's queue URL `realUrl` (same path, this proxy's host). */
  queueUrl(realUrl: string): string;
  /** Requests answered so far, by SQS action. */
  counts(): Readonly<Record<string, number>>;
  /** All requests answered so far. */
  calls(): number;
  /** Time spent in the proxy itself (parsing and translating, not waiting for fauxqs), in ms, so far. */
  overheadMs(): number;
  close(): Promise<void>;
}

/** A query-protocol request the proxy does not translate (an action or a parameter kombu's SQS transport does not use). */
export class UntranslatedRequestError extends Error {
  override readonly name = 'UntranslatedRequestError';
}

type Json = Record<string, unknown>;

const NUMBERS = new Set(['MaxNumberOfMessages', 'WaitTimeSeconds', 'VisibilityTimeout', 'DelaySeconds', 'MaxResults']);
const STRINGS = new Set(['QueueUrl', 'QueueName', 'QueueNamePrefix', 'MessageBody', 'ReceiptHandle', 'MessageGroupId', 'MessageDeduplicationId', 'ReceiveRequestAttemptId']);
const ACTIONS = new Set([
  'ListQueues',
  'GetQueueUrl',
  'CreateQueue',
  'GetQueueAttributes',
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'ChangeMessageVisibility',
  'PurgeQueue',
]);

export async function startSqsQueryProxy(options: SqsQueryProxyOptions): Promise<SqsQueryProxy> {
  const counts: Record<string, number> = {};
  const realByPath = new Map<string, string>();
  let overheadMs = 0;
  let endpoint = '';

  const toProxy = (realUrl: string): string => {
    const path = new URL(realUrl).pathname;
    realByPath.set(path, realUrl);
    return `${endpoint}${path}`;
  };
  const toReal = (url: string): string => realByPath.get(new URL(url, endpoint).pathname) ?? url;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = performance.now();
    let upstreamMs = 0;
    const requestId = randomUUID();
    let action = '?';
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const url = new URL(request.url ?? '/', endpoint);
      const params = new URLSearchParams(url.search);
      for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(key, value);
      action = params.get('Action') ?? '?';
      if (!ACTIONS.has(action)) throw new UntranslatedRequestError(`the SQS query proxy does not translate action "${action}"`);
      const body = toJson(params);
      // kombu's asynchronous calls name the queue by the request path, not by a parameter.
      if (body.QueueUrl === undefined && url.pathname !== '/') body.QueueUrl = `${endpoint}${url.pathname}`;
      if (typeof body.QueueUrl === 'string') body.QueueUrl = toReal(body.QueueUrl);

      const upstreamStarted = performance.now();
      const answer = await fetch(options.upstream, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` },
        body: JSON.stringify(body),
      });
      const text = await answer.text();
      upstreamMs = performance.now() - upstreamStarted;
      counts[action] = (counts[action] ?? 0) + 1;
      const json = (text === '' ? {} : JSON.parse(text)) as Json;
      if (!answer.ok) {
        const [queryCode, fault] = (answer.headers.get('x-amzn-query-error') ?? '').split(';');
        const code = queryCode || (typeof json.__type === 'string' ? json.__type.replace(/^.*#/, '') : 'InternalError');
        sendXml(response, answer.status, errorXml(code, fault ?? 'Sender', typeof json.message === 'string' ? json.message : '', requestId), requestId);
        return;
      }
      sendXml(response, 200, resultXml(action, resultBody(action, json, toProxy), requestId), requestId);
    } catch (error) {
      const untranslated = error instanceof UntranslatedRequestError;
      sendXml(response, untranslated ? 400 : 500, errorXml(untranslated ? 'InvalidAction' : 'InternalError', untranslated ? 'Sender' : 'Receiver', (error as Error).message, requestId), requestId);
    } finally {
      overheadMs += performance.now() - started - upstreamMs;
    }
  };

  const server: Server = createServer((request, response) => void handle(request, response));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

  return {
    endpoint,
    queueUrl: toProxy,
    counts: () => ({ ...counts }),
    calls: () => Object.values(counts).reduce((a, b) => a + b, 0),
    overheadMs: () => overheadMs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Query parameters (`AttributeName.1`, `Attribute.1.Name`, ...) as the JSON protocol's request body. */
function toJson(params: URLSearchParams): Json {
  const body: Json = {};
  const attributeNames: string[] = [];
  const messageAttributeNames: string[] = [];
  const attributes: Record<string, { name?: string; value?: string }> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    if (NUMBERS.has(key)) body[key] = Number(value);
    else if (STRINGS.has(key)) body[key] = value;
    else if (/^AttributeName\.\d+$/.test(key)) attributeNames.push(value);
    else if (/^MessageAttributeName\.\d+$/.test(key)) messageAttributeNames.push(value);
    else if (/^Attribute\.\d+\.(Name|Value)$/.test(key)) {
      const [, index = '', field] = key.split('.');
      const entry = (attributes[index] ??= {});
      if (field === 'Name') entry.name = value;
      else entry.value = value;
    } else throw new UntranslatedRequestError(`the SQS query proxy does not translate parameter "${key}"`);
  }
  if (attributeNames.length > 0) body.AttributeNames = attributeNames;
  if (messageAttributeNames.length > 0) body.MessageAttributeNames = messageAttributeNames;
  const entries = Object.values(attributes);
  if (entries.length > 0) body.Attributes = Object.fromEntries(entries.map((e) => [e.name ?? '', e.value ?? '']));
  return body;
}

/** The `<ActionResult>` content of a JSON protocol answer, as the query protocol's XML. */
function resultBody(action: string, json: Json, toProxy: (realUrl: string) => string): string {
  switch (action) {
    case 'ListQueues':
      return ((json.QueueUrls ?? []) as string[]).map((url) => element('QueueUrl', toProxy(url))).join('');
    case 'GetQueueUrl':
    case 'CreateQueue':
      return element('QueueUrl', toProxy(String(json.QueueUrl)));
    case 'GetQueueAttributes':
      return attributesXml(json.Attributes);
    case 'SendMessage':
      return ['MD5OfMessageBody', 'MD5OfMessageAttributes', 'MessageId', 'SequenceNumber']
        .filter((key) => json[key] !== undefined)
        .map((key) => element(key, String(json[key])))
        .join('');
    case 'ReceiveMessage':
      return ((json.Messages ?? []) as Json[])
        .map((m) => {
          const fields = ['MessageId', 'ReceiptHandle', 'MD5OfBody', 'Body'].filter((key) => m[key] !== undefined).map((key) => element(key, String(m[key])));
          if (m.MessageAttributes !== undefined) throw new UntranslatedRequestError('the SQS query proxy does not translate message attributes');
          return element('Message', fields.join('') + attributesXml(m.Attributes), false);
        })
        .join('');
    default:
      return ''; // DeleteMessage, ChangeMessageVisibility, PurgeQueue: no result fields
  }
}

function attributesXml(attributes: unknown): string {
  return Object.entries((attributes ?? {}) as Record<string, string>)
    .map(([name, value]) => element('Attribute', element('Name', name) + element('Value', value), false))
    .join('');
}

function resultXml(action: string, result: string, requestId: string): string {
  const metadata = element('ResponseMetadata', element('RequestId', requestId), false);
  return `<?xml version="1.0"?><${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/">${element(`${action}Result`, result, false)}${metadata}</${action}Response>`;
}

function errorXml(code: string, type: string, message: string, requestId: string): string {
  const error = element('Error', element('Type', type) + element('Code', code) + element('Message', message), false);
  return `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">${error}${element('RequestId', requestId)}</ErrorResponse>`;
}

function element(name: string, content: string, escape = true): string {
  return `<${name}>${escape ? escapeXml(content) : content}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function sendXml(response: ServerResponse, status: number, xml: string, requestId: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(xml);
}
