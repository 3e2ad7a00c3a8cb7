/**
 * Where the operations commands (`ferry jobs`, `ferry dlq`, `ferry workflows`)
 * act: the environment that tells Ferry's stores and clients which tables and
 * queues to use, taken from the running `ferry dev` (its runtime file) or from
 * a deployed stack's outputs (`cdk deploy --outputs-file`). The commands then
 * call the same platform code the functions run, with the caller's own AWS
 * credentials for a deployed stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { deadLetterQueueUrlEnvName, queueUrlEnvName, tableEnvName } from '../app/resource-env.js';
import { ConfigError } from './load-config.js';
import { HEARTBEAT_ENV, HEARTBEAT_SETTINGS_OUTPUT } from '../app/define-app.js';

export type OpsTarget =
  | { readonly kind: 'local'; readonly source: string; readonly environment: Readonly<Record<string, string>>; readonly url?: string }
  | { readonly kind: 'deployed'; readonly source: string; readonly stack: string; readonly environment: Readonly<Record<string, string>>; readonly apiUrl?: string };

/** The environment of the local runtime that wrote `file` (`ferry dev`'s `.ferry/runtime.json`). */
export function localTarget(file: string): OpsTarget {
  if (!existsSync(file)) {
    throw new ConfigError(`no ${file}: start the app with "ferry dev" first (it writes that file), or pass --runtime-file <file> or --outputs <cdk-outputs.json>`);
  }
  const parsed = parseJson(file) as { environment?: Record<string, string>; url?: unknown };
  if (typeof parsed.environment !== 'object' || parsed.environment === null) throw new ConfigError(`${file} has no "environment": it was not written by "ferry dev"`);
  return { kind: 'local', source: file, environment: parsed.environment, ...(typeof parsed.url === 'string' && { url: parsed.url }) };
}

/** `PageViews` → `pageViews`: an output's resource id. */
const camel = (pascal: string) => pascal.charAt(0).toLowerCase() + pascal.slice(1);

/**
 * The environment named by stack `stack`'s outputs in `file` (`{ Stack: {
 * StateTableName, IoQueueUrl, IoDeadLetterQueueUrl, ... } }`, as FerryStack
 * declares them). With no `stack`, the file's only stack.
 */
export function deployedTarget(file: string, stack?: string): OpsTarget {
  if (!existsSync(file)) throw new ConfigError(`no ${file}: deploy with "ferry deploy -- --outputs-file ${file}" (or cdk deploy --outputs-file), or pass --runtime-file for a local app`);
  const outputs = parseJson(file) as Record<string, Record<string, string> | undefined>;
  const stacks = Object.keys(outputs);
  const name = stack ?? (stacks.length === 1 ? stacks[0] : undefined);
  if (name === undefined) throw new ConfigError(`${file} has ${stacks.length} stacks (${stacks.join(', ') || 'none'}): pass --stack <name>`);
  const values = outputs[name];
  if (values === undefined) throw new ConfigError(`${file} has no stack "${name}" (stacks in it: ${stacks.join(', ') || 'none'})`);
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (key === HEARTBEAT_SETTINGS_OUTPUT) {
      environment[HEARTBEAT_ENV] = value;
      continue;
    }
    const table = /^(.+)TableName$/.exec(key);
    const dlq = /^(.+)DeadLetterQueueUrl$/.exec(key);
    const queue = /^(.+)QueueUrl$/.exec(key);
    if (table?.[1] !== undefined) environment[tableEnvName(camel(table[1]))] = value;
    else if (dlq?.[1] !== undefined) environment[deadLetterQueueUrlEnvName(camel(dlq[1]))] = value;
    else if (queue?.[1] !== undefined) environment[queueUrlEnvName(camel(queue[1]))] = value;
  }
  if (Object.keys(environment).length === 0) throw new ConfigError(`stack "${name}" in ${file} has no table or queue outputs: is it a Ferry stack?`);
  return { kind: 'deployed', source: file, stack: name, environment, ...(typeof values.ApiUrl === 'string' && { apiUrl: values.ApiUrl }) };
}

function parseJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`${file} is not JSON`);
  }
}
