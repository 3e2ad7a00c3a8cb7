/**
 * Where the end-to-end suite runs, from the environment:
 *
 * - `FERRY_E2E_TARGET=local` (the default, what CI runs): an embedded local
 *   runtime on the test run's emulators;
 * - `FERRY_E2E_TARGET=localstack`: a LocalStack deployment made with
 *   `npm run deploy:localstack`, found through `cdk-outputs.localstack.json`;
 * - `FERRY_E2E_TARGET=aws`: a real deployment made with `npm run deploy:aws`,
 *   found through `cdk-outputs.json`.
 *
 * `FERRY_E2E_OUTPUTS` names another outputs file, `FERRY_STACK` another stack
 * (default `Ferry`), and `FERRY_API_URL` skips the outputs file altogether.
 */

export type E2eTarget =
  | { readonly kind: 'local' }
  | { readonly kind: 'localstack' | 'aws'; readonly apiUrl: string; readonly source: string };

export const OUTPUTS_FILES = { localstack: 'cdk-outputs.localstack.json', aws: 'cdk-outputs.json' } as const;

export class E2eTargetError extends Error {
  override readonly name = 'E2eTargetError';
}

/** Resolves the target; `readFile` returns a file's text, or undefined if it does not exist. */
export function resolveTarget(env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string | undefined): E2eTarget {
  const kind = env.FERRY_E2E_TARGET ?? 'local';
  if (kind === 'local') return { kind };
  if (kind !== 'localstack' && kind !== 'aws') {
    throw new E2eTargetError(`FERRY_E2E_TARGET must be local, localstack or aws (got "${kind}")`);
  }
  if (env.FERRY_API_URL) return { kind, apiUrl: withoutTrailingSlash(env.FERRY_API_URL), source: 'FERRY_API_URL' };
  const file = env.FERRY_E2E_OUTPUTS ?? OUTPUTS_FILES[kind];
  const deploy = kind === 'localstack' ? 'npm run deploy:localstack' : 'npm run deploy:aws';
  const text = readFile(file);
  if (text === undefined) throw new E2eTargetError(`no ${file}: deploy first with \`${deploy}\` (it writes the stack outputs there), or set FERRY_API_URL`);
  let outputs: Record<string, Record<string, string> | undefined>;
  try {
    outputs = JSON.parse(text) as Record<string, Record<string, string> | undefined>;
  } catch {
    throw new E2eTargetError(`${file} is not JSON`);
  }
  const stack = env.FERRY_STACK ?? 'Ferry';
  const apiUrl = outputs[stack]?.ApiUrl;
  if (apiUrl === undefined) {
    throw new E2eTargetError(`${file} has no ApiUrl output for stack "${stack}" (stacks in it: ${Object.keys(outputs).join(', ') || 'none'})`);
  }
  return { kind, apiUrl: withoutTrailingSlash(apiUrl), source: `${file} (${stack}.ApiUrl)` };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
