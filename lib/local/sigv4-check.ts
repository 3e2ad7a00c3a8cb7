/**
 * API Gateway's IAM authorization, locally: a route declared with
 * `authorization: 'iam'` answers only requests signed with Signature Version 4
 * for `execute-api` by credentials the runtime knows (this machine's local
 * ones, which the functions and the CLI use). The signature is computed again
 * from the request as received, with the same signer the AWS SDK uses, and
 * compared; the answers for a missing, malformed, unknown or wrong signature
 * are API Gateway's.
 *
 * What it cannot check: which IAM principal signed and whether its policy
 * allows `execute-api:Invoke` on the route (locally there is one principal).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../aws/node-sha256.js';

/** How far a request's `X-Amz-Date` may be from now: API Gateway allows 5 minutes. */
const MAX_SKEW_MS = 5 * 60_000;

export type SigV4Refusal = { readonly status: 403; readonly errorType: string; readonly message: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

export interface SignedRequest {
  readonly method: string;
  /** The path as sent (percent-encoded), e.g. `/prod/_ferry/console/jobs`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Headers as received (names in any case). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/**
 * Undefined when `request` carries a valid signature by `credentials`;
 * otherwise API Gateway's refusal.
 */
export async function checkSigV4(
  request: SignedRequest,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
  region: string,
  now = Date.now(),
): Promise<SigV4Refusal | undefined> {
  const header = (name: string) => request.headers.find(([key]) => key.toLowerCase() === name)?.[1];
  const authorization = header('authorization');
  if (authorization === undefined) return { status: 403, errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const parts = AUTHORIZATION.exec(authorization.trim());
  if (parts === null) {
    return { status: 403, errorType: 'IncompleteSignatureException', message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters of AWS4-HMAC-SHA256. Authorization=${authorization.slice(0, 80)}` };
  }
  const [, accessKeyId, , signedRegion, service, signedHeaders, signature] = parts as unknown as [string, string, string, string, string, string, string];
  if (accessKeyId !== credentials.accessKeyId) return { status: 403, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (service !== 'execute-api' || signedRegion !== region) {
    return { status: 403, errorType: 'InvalidSignatureException', message: `Credential should be scoped to a valid region and service 'execute-api' in '${region}'.` };
  }
  const amzDate = header('x-amz-date');
  const signedAt = amzDate === undefined ? Number.NaN : Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(signedAt)) return { status: 403, errorType: 'IncompleteSignatureException', message: 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.' };
  // API Gateway's words for a request signed more than 5 minutes before or after its own clock.
  if (now - signedAt > MAX_SKEW_MS) return { status: 403, errorType: 'InvalidSignatureException', message: `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - MAX_SKEW_MS)} (${amzDateOf(now)} - 5 min.)` };
  if (signedAt - now > MAX_SKEW_MS) return { status: 403, errorType: 'InvalidSignatureException', message: `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_SKEW_MS)} (${amzDateOf(now)} + 5 min.)` };

  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { status: 403, errorType: 'InvalidSignatureException', message: "'Host' must be a signed header." };
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = header(name);
    if (value !== undefined) headers[name] = value;
  }
  // The canonical request hashes the body as received; a signer's own claim of it (this header) is not taken on trust.
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  if (headers['x-amz-content-sha256'] !== undefined) headers['x-amz-content-sha256'] = payloadHash;
  // applyChecksum false: the canonical request then signs exactly the client's headers (x-amz-content-sha256 only when it signed one, as botocore and curl do not).
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: credentials.secretAccessKey }, region, service: 'execute-api', sha256: NodeSha256, applyChecksum: false });
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.query.keys())) {
    const values = request.query.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  const signed = await signer.sign(
    { method: request.method, protocol: 'https:', hostname: headers.host ?? '', path: request.path, query, headers, body: request.body.length === 0 ? undefined : request.body },
    { signingDate: new Date(signedAt), unsignableHeaders: new Set(), signableHeaders: new Set(names) },
  );
  const recomputed = /SignedHeaders=([a-z0-9;-]+)/.exec(String(signed.headers.authorization ?? ''))?.[1];
  const expected = recomputed === signedHeaders ? (/Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '') : '';
  if (expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) return undefined;
  return {
    status: 403,
    errorType: 'InvalidSignatureException',
    message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
  };
}

/** `ms` as SigV4 writes a time: `20260101T000000Z`. */
function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
