/**
 * The code the deployed stack runs: `cdk synth` of the app's stack, with
 * bundling (esbuild, as `npm run synth` and `cdk deploy` do, the AWS SDK
 * inside), in this process, into a cloud assembly folder. For each function,
 * the bundle's file and the handler export the template names. The local
 * runtime runs these instead of the TypeScript sources (in sandboxes), so a
 * bundling error, a wrong handler path or a module that only resolves from
 * the sources fails locally.
 *
 * Bundles are kept in a cache folder keyed by the declaration and the content
 * of every source file (Ferry's and the project's), the lock file and config: a restart with
 * nothing changed bundles nothing. The same synthesis also records the stack's
 * IAM policies (deployed-policies.ts), so they need no synthesis of their own.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../app/define-app.js';
import { rememberPolicies } from './deployed-policies.js';
import { bundleSandboxBootstrap, SANDBOX_BOOTSTRAP_FILE } from './sandbox-pool.js';

export interface DeployedFunctionCode {
  /** The bundle's entry file (`asset.<hash>/index.mjs`). */
  readonly file: string;
  /** The export the template's `Handler` (`index.handler`) names. */
  readonly handler: string;
}

/** Where bundles are cached, by declaration and source content. */
export const BUNDLE_CACHE_DIR = join(tmpdir(), 'ferry-bundle-cache');
/** Ferry's own folders (its sources, or the installed package's build): the platform code in every bundle. */
const PLATFORM_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLATFORM_FOLDERS = ['lib', 'cdk'];
/** A project's usual source folders, besides the folders of its function entries. */
const PROJECT_FOLDERS = ['lib', 'functions', 'cdk', 'app', 'src', 'test/fixtures'];
const SKIPPED = /(^|\/)(node_modules|\.git|\.ferry|cdk\.out|dist)(\/|$)/;

/** The folders whose files go into the bundles or decide them: Ferry's, and the project's. */
function sourceFolders(app: App, projectRoot: string): string[] {
  const entryFolders = app.functions.map((fn) => fn.entry.split(/[\\/]/)[0] ?? '').filter((f) => f !== '' && !f.includes('.'));
  const folders = [
    ...PLATFORM_FOLDERS.map((f) => join(PLATFORM_ROOT, f)),
    ...[...PROJECT_FOLDERS, ...entryFolders].map((f) => join(projectRoot, f)),
  ];
  return [...new Set(folders)].filter((dir) => existsSync(dir));
}

function cacheKey(app: App, projectRoot: string): string {
  const hash = createHash('sha256').update(JSON.stringify(app));
  for (const dir of sourceFolders(app, projectRoot)) {
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mts|js|mjs|json)$/.test(f) && !SKIPPED.test(f)).sort()) {
      hash.update(join(dir, file)).update(readFileSync(join(dir, file)));
    }
  }
  for (const file of ['package-lock.json', 'ferry.config.ts', 'ferry.config.js', 'ferry.config.mjs', 'tsconfig.json']) {
    if (existsSync(join(projectRoot, file))) hash.update(file).update(readFileSync(join(projectRoot, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

export interface DeployedBundles {
  /** Each function's bundle, by declared id. */
  readonly functions: Readonly<Record<string, DeployedFunctionCode>>;
  /** The sandbox bootstrap, bundled beside them (see sandbox-bootstrap.ts). */
  readonly bootstrapFile: string;
}

/** The bundles of every function: from the cache, or synthesized (and cached) now. */
export async function deployedBundles(app: App, projectRoot: string): Promise<DeployedBundles> {
  const key = cacheKey(app, projectRoot);
  const folder = join(BUNDLE_CACHE_DIR, key);
  const index = join(folder, 'bundles.json');
  const bootstrapFile = join(folder, SANDBOX_BOOTSTRAP_FILE);
  if (existsSync(index) && existsSync(bootstrapFile)) {
    const cached = JSON.parse(readFileSync(index, 'utf8')) as Record<string, DeployedFunctionCode>;
    const functions = Object.fromEntries(Object.entries(cached).map(([id, c]) => [id, { ...c, file: join(folder, c.file) }]));
    if (Object.values(functions).every((c) => existsSync(c.file))) return { functions, bootstrapFile };
  }
  // Built in a folder of its own, then renamed into place whole: a concurrent start never sees half of it.
  const building = `${folder}.${process.pid}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const code = await synthesizeBundles(app, projectRoot, building);
  await bundleSandboxBootstrap(join(building, SANDBOX_BOOTSTRAP_FILE));
  writeFileSync(join(building, 'bundles.json'), JSON.stringify(Object.fromEntries(Object.entries(code).map(([id, c]) => [id, { ...c, file: relative(building, c.file) }]))));
  try {
    renameSync(building, folder);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    // Another start cached the same key first: use that one. Anything else is a real failure.
    if (existsSync(index)) return deployedBundles(app, projectRoot);
    throw error;
  }
  return { functions: Object.fromEntries(Object.entries(code).map(([id, c]) => [id, { ...c, file: join(folder, relative(building, c.file)) }])), bootstrapFile };
}

/** Synthesizes the app's stack with bundling into `outdir`; the code of every function, by declared id. */
export async function synthesizeBundles(app: App, projectRoot: string, outdir: string): Promise<Record<string, DeployedFunctionCode>> {
  const { App: CdkApp, CfnElement } = await import('aws-cdk-lib');
  const { FerryStack } = await import('../../cdk/stacks/ferry-stack.js');
  // Asset metadata names each function's asset folder in the template, as the CLI's synth does.
  const cdkApp = new CdkApp({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new FerryStack(cdkApp, 'Local', { app, projectRoot });
  const synthesized = cdkApp.synth().getStackArtifact(stack.artifactId).template as unknown;
  await rememberPolicies(app, projectRoot, stack, synthesized);
  const template = synthesized as { Resources: Record<string, { Properties?: { Handler?: string }; Metadata?: Record<string, string> }> };
  const code: Record<string, DeployedFunctionCode> = {};
  for (const [functionId, fn] of stack.functions) {
    const cfn = fn.node.defaultChild;
    if (!(cfn instanceof CfnElement)) throw new Error(`function "${functionId}" has no CloudFormation resource`);
    const resource = template.Resources[stack.getLogicalId(cfn)];
    const assetPath = resource?.Metadata?.['aws:asset:path'];
    const handler = resource?.Properties?.Handler;
    if (assetPath === undefined || handler === undefined) throw new Error(`the template gives function "${functionId}" no asset path or handler`);
    const [fileStem, exportName] = splitHandler(handler);
    const file = ['.mjs', '.js', '.cjs'].map((ext) => join(outdir, assetPath, `${fileStem}${ext}`)).find((f) => existsSync(f));
    if (file === undefined) throw new Error(`function "${functionId}": no ${fileStem}.mjs or .js in ${join(outdir, assetPath)} (Handler ${handler})`);
    code[functionId] = { file, handler: exportName };
  }
  return code;
}

/** `index.handler` → [`index`, `handler`]: Lambda's Node.js handler string, file then export. */
export function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) throw new Error(`Handler "${handler}" is not <file>.<export>`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
