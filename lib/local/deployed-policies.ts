/**
 * The IAM policies the deployed stack gives each function, read from the
 * template `cdk synth` produces for the app (synthesized in this process,
 * without bundling), with every resource reference resolved to the local
 * resource it stands for. Synthesis takes a few seconds, so its result is kept
 * in memory and in a cache folder under the system's temporary directory,
 * keyed by the declaration and the content of the CDK code and lock file. This is the only description of what a function may
 * call: the local runtime checks calls against it (see iam-check.ts), so a
 * grant missing from the stack fails locally as it would on AWS.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IConstruct } from 'constructs';
import { lockFilesOf, projectCdkContext } from '../util/project-files.js';
import type { App } from '../app/define-app.js';
import type { FerryStack } from '../../cdk/stacks/ferry-stack.js';

/** One statement of a function's identity policy, its resources as local ARN patterns (IAM wildcards kept). */
export interface LocalStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** ARNs of the local resources, by declared id. */
export interface LocalArns {
  readonly tables: Readonly<Record<string, string>>;
  readonly queues: Readonly<Record<string, string>>;
  readonly deadLetterQueues: Readonly<Record<string, string>>;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

/** What the template says, before any local name is known: cacheable as JSON. */
interface SynthesizedPolicies {
  /** Raw statements of each function's role, by declared function id. */
  readonly statements: Readonly<Record<string, Json[]>>;
  /** Template logical ids of the tables, queues and dead-letter queues, by declared id. */
  readonly logicalIds: {
    readonly tables: Readonly<Record<string, string>>;
    readonly queues: Readonly<Record<string, string>>;
    readonly deadLetterQueues: Readonly<Record<string, string>>;
  };
}

/** Where synthesized policies are cached, by declaration and CDK code. */
export const POLICY_CACHE_DIR = join(tmpdir(), 'ferry-policy-cache');
/** Synthesis takes seconds; its result depends only on the declaration and the CDK code that reads it. */
const memo = new Map<string, SynthesizedPolicies>();

/** Ferry's CDK code (its sources, or the installed package's build), which decides what a synthesis makes: absolute paths, sorted. */
export function ferryCdkFiles(): string[] {
  const cdkDir = fileURLToPath(new URL('../../cdk/', import.meta.url));
  return readdirSync(cdkDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort().map((f) => join(cdkDir, f));
}

/** The files whose content decides the template's policies: the CDK code and the pinned CDK library. */
function synthesisInputs(projectRoot: string): string[] {
  return [...ferryCdkFiles(), ...lockFilesOf(projectRoot)];
}

function cacheKey(app: App, projectRoot: string): string {
  const hash = createHash('sha256').update(JSON.stringify(app)).update(JSON.stringify(projectCdkContext(projectRoot)));
  for (const file of synthesisInputs(projectRoot)) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 32);
}

/** Synthesizes the app's stack (no bundling) and reads each function's role policy out of the template. */
async function synthesize(app: App, projectRoot: string): Promise<SynthesizedPolicies> {
  // Loaded only when the cache has no answer: the CDK library alone takes most of a second to import.
  const { App: CdkApp } = await import('aws-cdk-lib');
  const { FerryStack } = await import('../../cdk/stacks/ferry-stack.js');
  const outdir = mkdtempSync(join(tmpdir(), 'ferry-synth-'));
  try {
    // The project's CDK context (cdk.json's feature flags, such as minimizePolicies), as `cdk deploy` gives it.
    const cdkApp = new CdkApp({ outdir, context: { ...projectCdkContext(projectRoot), 'aws:cdk:bundling-stacks': [] } });
    const stack = new FerryStack(cdkApp, 'Local', { app, projectRoot });
    return await readPolicies(stack, cdkApp.synth().getStackArtifact(stack.artifactId).template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Each function's role statements and the logical ids of the tables and queues, out of a synthesized `stack`'s template. */
async function readPolicies(stack: FerryStack, synthesized: unknown): Promise<SynthesizedPolicies> {
  const { CfnElement } = await import('aws-cdk-lib');
  const template = synthesized as { Resources: Record<string, TemplateResource> };
  const logicalId = (construct: IConstruct | undefined): string | undefined => {
    const cfn = construct?.node.defaultChild;
    return cfn instanceof CfnElement ? stack.getLogicalId(cfn) : undefined;
  };
  const idsOf = (constructs: ReadonlyMap<string, IConstruct>): Record<string, string> =>
    Object.fromEntries([...constructs].flatMap(([id, c]) => {
      const logical = logicalId(c);
      return logical === undefined ? [] : [[id, logical]];
    }));

  const byRole = new Map<string, Json[]>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = resource.Properties?.PolicyDocument as { Statement?: Json } | undefined;
    for (const role of list(resource.Properties?.Roles)) {
      const ref = (role as { Ref?: Json }).Ref;
      if (typeof ref === 'string') byRole.set(ref, [...(byRole.get(ref) ?? []), ...list(document?.Statement)]);
    }
  }
  const statements: Record<string, Json[]> = {};
  for (const [functionId, fn] of stack.functions) {
    const role = logicalId(fn.role);
    statements[functionId] = role === undefined ? [] : (byRole.get(role) ?? []);
  }
  return { statements, logicalIds: { tables: idsOf(stack.tables), queues: idsOf(stack.queues), deadLetterQueues: idsOf(stack.deadLetterQueues) } };
}

/**
 * Records the policies of a stack synthesized elsewhere (with bundling, by
 * deployed-bundles.ts), so that the next `deployedPolicies` for the same app
 * needs no synthesis of its own.
 */
export async function rememberPolicies(app: App, projectRoot: string, stack: FerryStack, template: unknown): Promise<void> {
  storePolicies(cacheKey(app, projectRoot), await readPolicies(stack, template));
}

function storePolicies(key: string, policies: SynthesizedPolicies): void {
  memo.set(key, policies);
  mkdirSync(POLICY_CACHE_DIR, { recursive: true });
  // Written whole, then renamed: a concurrent reader never sees half a file.
  const file = join(POLICY_CACHE_DIR, `${key}.json`);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(policies));
  renameSync(partial, file);
}

/** The synthesized policies of `app`: from memory, from the cache folder, or synthesized (and cached) now. */
async function synthesizedPolicies(app: App, projectRoot: string): Promise<SynthesizedPolicies> {
  const key = cacheKey(app, projectRoot);
  const cached = memo.get(key);
  if (cached !== undefined) return cached;
  const file = join(POLICY_CACHE_DIR, `${key}.json`);
  if (existsSync(file)) {
    const policies = JSON.parse(readFileSync(file, 'utf8')) as SynthesizedPolicies;
    memo.set(key, policies);
    return policies;
  }
  const policies = await synthesize(app, projectRoot);
  storePolicies(key, policies);
  return policies;
}

const list = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The policy statements of every function's execution role in the
 * synthesized stack, by declared function id, with resources as local ARNs.
 * A resource the local runtime has no counterpart for (a log group, say)
 * names nothing local, so it grants nothing here.
 */
export async function deployedPolicies(app: App, projectRoot: string, arns: LocalArns): Promise<Map<string, LocalStatement[]>> {
  const { statements, logicalIds } = await synthesizedPolicies(app, projectRoot);
  // Logical id → local ARN, for every resource a function can name in a call.
  const local = new Map<string, { Arn: string; StreamArn?: string }>();
  for (const [id, logical] of Object.entries(logicalIds.tables)) {
    const arn = arns.tables[id];
    if (arn !== undefined) local.set(logical, { Arn: arn, StreamArn: `${arn}/stream/*` });
  }
  for (const [kind, ids] of [['queues', logicalIds.queues], ['deadLetterQueues', logicalIds.deadLetterQueues]] as const) {
    for (const [id, logical] of Object.entries(ids)) {
      const arn = arns[kind][id];
      if (arn !== undefined) local.set(logical, { Arn: arn });
    }
  }

  const resolve = (value: Json): string | undefined => {
    if (typeof value === 'string') return value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      const [logical, attribute] = getAtt;
      const target = typeof logical === 'string' ? local.get(logical) : undefined;
      return attribute === 'Arn' || attribute === 'StreamArn' ? target?.[attribute] : undefined;
    }
    const joined = value['Fn::Join'];
    if (Array.isArray(joined) && typeof joined[0] === 'string' && Array.isArray(joined[1])) {
      const parts = joined[1].map(resolve);
      return parts.every((p): p is string => p !== undefined) ? parts.join(joined[0]) : undefined;
    }
    // Anything else (Ref, Fn::Sub, a pseudo parameter) names nothing local.
    return undefined;
  };

  return new Map(
    Object.entries(statements).map(([functionId, raw]) => [
      functionId,
      raw.map((s): LocalStatement => {
        const statement = s as { Effect?: Json; Action?: Json; Resource?: Json; NotAction?: Json; NotResource?: Json; Condition?: Json };
        // Shapes the local check cannot evaluate faithfully stop the runtime rather than grant or deny wrongly.
        for (const unsupported of ['NotAction', 'NotResource', 'Condition'] as const) {
          if (statement[unsupported] !== undefined) {
            throw new Error(`function "${functionId}": its policy has a statement with ${unsupported}, which the local IAM check cannot evaluate; start the runtime with iam: false to run without it`);
          }
        }
        return {
          effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
          actions: list(statement.Action).filter((a): a is string => typeof a === 'string'),
          resources: list(statement.Resource).map(resolve).filter((r): r is string => r !== undefined),
        };
      }),
    ]),
  );
}
