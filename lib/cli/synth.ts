/**
 * `ferry synth` and `ferry deploy`: the project's stack, built by
 * `ferry/cdk` from the app its config declares.
 *
 * `ferry synth` synthesizes in this process (no `cdk` CLI needed, nothing
 * downloaded) into `cdk.out`, bundling every function with esbuild, and fails
 * on a cdk-nag error. `ferry deploy` runs the AWS CDK CLI (`aws-cdk`, a peer
 * dependency) with this CLI's `cdk-app` command as its app, so the CLI's
 * context, profiles and approvals work as usual.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runsFromSources } from '../util/module-file.js';
import type { LoadedConfig } from './load-config.js';
import { ConfigError } from './load-config.js';

export const SYNTH_USAGE = `Usage: ferry synth [--out <dir>] [--config <file>] [--no-nag]

Synthesizes the app's CloudFormation stack with its function bundles into
<dir> (default cdk.out), offline, with cdk-nag's AwsSolutions checks.`;

export const DEPLOY_USAGE = `Usage: ferry deploy [--config <file>] [-- <cdk deploy options>]

Deploys the app's stack with the AWS CDK CLI (npm install --save-dev aws-cdk@2).
Options after -- go to cdk deploy, e.g. -- --require-approval never --profile dev.`;

/** Synthesizes `config`'s stack into `out`; returns the template's path, or throws naming the cdk-nag errors. */
export async function synthesize(loaded: LoadedConfig, out: string, nag = true): Promise<{ stackName: string; template: string; warnings: number }> {
  const { ferryCdkApp } = await import('../../cdk/ferry-app.js');
  const { app, stack } = ferryCdkApp(loaded.config, { outdir: out, projectRoot: loaded.projectRoot, nag });
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const levelOf = (m: (typeof artifact.messages)[number]): string => String(m.level);
  const errors = artifact.messages.filter((m) => levelOf(m) === 'error');
  const warnings = artifact.messages.filter((m) => levelOf(m) === 'warning');
  for (const m of [...warnings, ...errors]) console.error(`[${levelOf(m)}] ${m.id}: ${typeof m.entry.data === 'string' ? m.entry.data : JSON.stringify(m.entry.data)}`);
  if (errors.length > 0) throw new ConfigError(`synth of ${stack.stackName} found ${errors.length} error(s) (above)`);
  return { stackName: stack.stackName, template: join(out, artifact.templateFile), warnings: warnings.length };
}

export async function synth(args: readonly string[], load: (explicit?: string) => Promise<LoadedConfig>): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: { out: { type: 'string' }, config: { type: 'string' }, 'no-nag': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void console.log(SYNTH_USAGE);
  const loaded = await load(values.config);
  const out = values.out ?? join(loaded.projectRoot, 'cdk.out');
  const started = Date.now();
  const { stackName, template, warnings } = await synthesize(loaded, out, !values['no-nag']);
  console.log(`Ferry: synthesized stack ${stackName} of ${loaded.config.app.name} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${relative(process.cwd(), template) || template}${warnings > 0 ? ` (${warnings} warning(s) above)` : ''}`);
}

/** The command the `cdk` CLI runs as the app: this CLI's `cdk-app`, under tsx when Ferry runs from its sources. */
export function cdkAppCommand(configFile: string): string {
  const cli = fileURLToPath(new URL(`./main${runsFromSources(import.meta.url) ? '.ts' : '.js'}`, import.meta.url));
  const parts = [process.execPath, ...(runsFromSources(import.meta.url) ? ['--import', 'tsx'] : []), cli, 'cdk-app', '--config', configFile];
  return parts.map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** `cdk-app`: what the `cdk` CLI runs; it passes the output folder and context in the environment. */
export async function cdkApp(args: readonly string[], load: (explicit?: string) => Promise<LoadedConfig>): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } });
  const loaded = await load(values.config);
  const { ferryCdkApp } = await import('../../cdk/ferry-app.js');
  ferryCdkApp(loaded.config, { projectRoot: loaded.projectRoot }).app.synth();
}

export async function deploy(args: readonly string[], load: (explicit?: string) => Promise<LoadedConfig>): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void console.log(DEPLOY_USAGE);
  const loaded = await load(values.config);
  let cdkBin: string;
  try {
    const require = createRequire(join(loaded.projectRoot, 'package.json'));
    cdkBin = join(require.resolve('aws-cdk/package.json'), '..', 'bin', 'cdk');
  } catch {
    throw new ConfigError('ferry deploy runs the AWS CDK CLI, which this project does not have: npm install --save-dev aws-cdk@2');
  }
  const cdkArgs = [cdkBin, 'deploy', '--app', cdkAppCommand(loaded.file), '--no-notices', ...positionals];
  const child = spawn(process.execPath, cdkArgs, {
    cwd: loaded.projectRoot,
    stdio: 'inherit',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: process.env.CDK_DISABLE_CLI_TELEMETRY ?? 'true' },
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) process.exitCode = code;
}
