/**
 * The CDK app of a Ferry project: one `FerryStack` built from the app its
 * `ferry.config.ts` declares, with cdk-nag's AwsSolutions checks on every
 * synth (an unsuppressed finding is printed; an error fails the synth; the
 * accepted ones, with their reasons, are in `nag-suppressions.ts`).
 *
 * `ferry synth` runs it in-process; `ferry deploy` (and `cdk.json` in this
 * repository) hand it to the `cdk` CLI, which passes the output folder and
 * context through the environment (`CDK_OUTDIR`, `CDK_CONTEXT_JSON`).
 */
import { App, Aspects, type StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defaultStackName, type FerryConfig } from '../lib/app/config.js';
import { projectCdkContext } from '../lib/util/project-files.js';
import { FerryStack, type FerryStackProps } from './stacks/ferry-stack.js';

export interface FerryCdkAppOptions {
  /** Where the cloud assembly is written. @default `CDK_OUTDIR` when the `cdk` CLI runs the app, else `cdk.out` */
  readonly outdir?: string;
  /** Directory of the function entries and `package-lock.json`. @default the working directory */
  readonly projectRoot?: string;
  /** Run cdk-nag's AwsSolutions checks. @default true */
  readonly nag?: boolean;
  /** More stack settings (alarm topic, maximum message age, env). */
  readonly stack?: Omit<FerryStackProps, 'app' | 'projectRoot'> & StackProps;
}

/**
 * Builds the CDK app for `config`: the stack is named by `-c stackName=...`,
 * else by the config (`stackName`, or the app's name in PascalCase).
 */
export function ferryCdkApp(config: FerryConfig, options: FerryCdkAppOptions = {}): { app: App; stack: FerryStack } {
  const underCli = Boolean(process.env.CDK_OUTDIR);
  const outdir = options.outdir ?? (underCli ? undefined : 'cdk.out');
  // In-process, what the CLI would give the app: the project's cdk.json context (feature flags) and the
  // metadata it turns on by default (construct paths, each asset's folder), so the two assemblies agree.
  const context = underCli
    ? {}
    : { ...projectCdkContext(options.projectRoot ?? process.cwd()), 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true };
  const app = new App({ context, ...(outdir !== undefined && { outdir }) });
  const fromContext: unknown = app.node.tryGetContext('stackName');
  const stackName = typeof fromContext === 'string' && fromContext !== '' ? fromContext : defaultStackName(config);
  const stack = new FerryStack(app, stackName, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    ...options.stack,
    app: config.app,
    ...(options.projectRoot !== undefined && { projectRoot: options.projectRoot }),
  });
  if (options.nag !== false) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stack };
}
