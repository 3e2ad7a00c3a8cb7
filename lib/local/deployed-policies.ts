/**
 * The IAM policies the deployed stack gives each function, read from the
 * template `cdk synth` produces for the app (synthesized in this process,
 * without bundling), with every resource reference resolved to the local
 * resource it stands for. This is the only description of what a function may
 * call: the local runtime checks calls against it (see iam-check.ts), so a
 * grant missing from the stack fails locally as it would on AWS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App as CdkApp, CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { App } from '../app/define-app.js';
import { FerryStack } from '../../cdk/stacks/ferry-stack.js';

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

/**
 * The policy statements of every function's execution role in the
 * synthesized stack, by declared function id. A resource the local runtime
 * has no counterpart for (a log group, say) resolves to an ARN no local call
 * names, so it grants nothing here.
 */
export function deployedPolicies(app: App, projectRoot: string, arns: LocalArns): Map<string, LocalStatement[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'ferry-synth-'));
  try {
    const cdkApp = new CdkApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FerryStack(cdkApp, 'Local', { app, projectRoot });
    const template = cdkApp.synth().getStackArtifact(stack.artifactId).template as { Resources: Record<string, TemplateResource> };
    const logicalId = (construct: IConstruct | undefined): string | undefined => {
      const cfn = construct?.node.defaultChild;
      return cfn instanceof CfnElement ? stack.getLogicalId(cfn) : undefined;
    };

    // Logical id → local ARN, for every resource a function can name in a call.
    const local = new Map<string, { Arn: string; StreamArn?: string }>();
    for (const [id, table] of stack.tables) {
      const arn = arns.tables[id];
      const logical = logicalId(table);
      if (arn !== undefined && logical !== undefined) local.set(logical, { Arn: arn, StreamArn: `${arn}/stream/*` });
    }
    for (const [id, queue] of stack.queues) {
      const arn = arns.queues[id];
      const logical = logicalId(queue);
      if (arn !== undefined && logical !== undefined) local.set(logical, { Arn: arn });
    }
    for (const [id, queue] of stack.deadLetterQueues) {
      const arn = arns.deadLetterQueues[id];
      const logical = logicalId(queue);
      if (arn !== undefined && logical !== undefined) local.set(logical, { Arn: arn });
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
      const join = value['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        const parts = join[1].map(resolve);
        return parts.every((p): p is string => p !== undefined) ? parts.join(join[0]) : undefined;
      }
      // Anything else (Ref, Fn::Sub, a pseudo parameter) names nothing local.
      return undefined;
    };
    const list = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

    const byRole = new Map<string, LocalStatement[]>();
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const document = resource.Properties?.PolicyDocument as { Statement?: Json } | undefined;
      const statements = list(document?.Statement).map((s): LocalStatement => {
        const statement = s as { Effect?: Json; Action?: Json; Resource?: Json };
        return {
          effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
          actions: list(statement.Action).filter((a): a is string => typeof a === 'string'),
          resources: list(statement.Resource).map(resolve).filter((r): r is string => r !== undefined),
        };
      });
      for (const role of list(resource.Properties?.Roles)) {
        const ref = (role as { Ref?: Json }).Ref;
        if (typeof ref === 'string') byRole.set(ref, [...(byRole.get(ref) ?? []), ...statements]);
      }
    }

    const policies = new Map<string, LocalStatement[]>();
    for (const [functionId, fn] of stack.functions) {
      const role = logicalId(fn.role);
      policies.set(functionId, role === undefined ? [] : (byRole.get(role) ?? []));
    }
    return policies;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
