/**
 * The code the deployed stack runs: `cdk synth` of the app's stack, with
 * bundling (esbuild, as `ferry synth` and `cdk deploy` do, the AWS SDK
 * inside), in this process, into a cloud assembly folder. For each function,
 * the bundle's file and the handler export the template names. The local
 * runtime runs these instead of the TypeScript sources (in sandboxes), so a
 * bundling error, a wrong handler path or a module that only resolves from
 * the sources fails locally.
 *
 * Bundles are cached by what went into them, exactly: each build records
 * esbuild's list of input files (its metafile: every source file and package
 * file bundled, the project's and Ferry's), and a start reuses a build only
 * while every one of those files has the content it had. The declaration,
 * the project folder, the CDK context, the tsconfig, the esbuild version and
 * Ferry's CDK code (the bundling settings) select the cache entry. A restart
 * with nothing changed bundles nothing; any change to a bundled file bundles
 * again. The same synthesis also records the stack's IAM policies
 * (deployed-policies.ts), so they need no synthesis of their own.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { App } from '../app/define-app.js';
import { projectCdkContext } from '../util/project-files.js';
import { ferryCdkFiles, rememberPolicies } from './deployed-policies.js';
import { bundleSandboxBootstrap, SANDBOX_BOOTSTRAP_FILE } from './sandbox-pool.js';

export interface DeployedFunctionCode {
  /** The bundle's entry file (`asset.<hash>/index.mjs`). */
  readonly file: string;
  /** The export the template's `Handler` (`index.handler`) names. */
  readonly handler: string;
}

/** Where bundles are cached, by declaration and the content of what went into them. */
export const BUNDLE_CACHE_DIR = join(tmpdir(), 'ferry-bundle-cache');

function hashFiles(hash: ReturnType<typeof createHash>, files: readonly string[]): void {
  for (const file of files) hash.update(file).update('\0').update(existsSync(file) ? readFileSync(file) : '(missing)').update('\0');
}

/** The cache entry's key: what selects the build besides its input files. */
function entryKey(app: App, projectRoot: string): string {
  const hash = createHash('sha256').update(JSON.stringify(app)).update(resolve(projectRoot)).update(JSON.stringify(projectCdkContext(projectRoot)));
  hashFiles(hash, [...ferryCdkFiles(), join(projectRoot, 'tsconfig.json')]);
  try {
    const esbuild = createRequire(join(projectRoot, 'package.json')).resolve('esbuild/package.json');
    hash.update((JSON.parse(readFileSync(esbuild, 'utf8')) as { version: string }).version);
  } catch {
    hash.update('no esbuild');
  }
  return hash.digest('hex').slice(0, 24);
}

/** The digest of the content of `inputs` (absolute paths) now. */
function inputsDigest(inputs: readonly string[]): string {
  const hash = createHash('sha256');
  hashFiles(hash, [...inputs].sort());
  return hash.digest('hex').slice(0, 24);
}

/** The input files an esbuild metafile lists, absolute (its paths are relative to `workingDir`). */
function metafileInputs(metafile: string, workingDir: string): string[] {
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> };
  // Namespaced inputs (`<define:...>`, virtual modules) are no files.
  return Object.keys(meta.inputs).filter((p) => !p.includes(':') || isAbsolute(p)).map((p) => resolve(workingDir, p));
}

export interface DeployedBundles {
  /** Each function's bundle, by declared id. */
  readonly functions: Readonly<Record<string, DeployedFunctionCode>>;
  /** The sandbox bootstrap, bundled beside them (see sandbox-bootstrap.ts). */
  readonly bootstrapFile: string;
}

interface CachedBuild {
  /** Each function's bundle file, relative to the build's folder, and its handler export. */
  readonly functions: Record<string, DeployedFunctionCode>;
  /** Every file that went into the bundles, absolute. */
  readonly inputs: string[];
}

function fromFolder(folder: string, build: CachedBuild): DeployedBundles | undefined {
  const functions = Object.fromEntries(Object.entries(build.functions).map(([id, c]) => [id, { ...c, file: join(folder, c.file) }]));
  const bootstrapFile = join(folder, SANDBOX_BOOTSTRAP_FILE);
  if (!existsSync(bootstrapFile) || !Object.values(functions).every((c) => existsSync(c.file))) return undefined;
  return { functions, bootstrapFile };
}

/** The bundles of every function: from the cache while nothing that went into them changed, else synthesized (and cached) now. */
export async function deployedBundles(app: App, projectRoot: string): Promise<DeployedBundles> {
  const key = entryKey(app, projectRoot);
  const index = join(BUNDLE_CACHE_DIR, `${key}.json`);
  if (existsSync(index)) {
    const last = JSON.parse(readFileSync(index, 'utf8')) as CachedBuild;
    const cached = fromFolder(join(BUNDLE_CACHE_DIR, `${key}-${inputsDigest(last.inputs)}`), last);
    if (cached !== undefined) return cached;
  }
  // Built in a folder of its own, then renamed into place whole: a concurrent start never sees half of it.
  mkdirSync(BUNDLE_CACHE_DIR, { recursive: true });
  const building = join(BUNDLE_CACHE_DIR, `${key}.${process.pid}.building`);
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    const { code, inputs } = await synthesizeBundles(app, projectRoot, building);
    const bootstrapInputs = await bundleSandboxBootstrap(join(building, SANDBOX_BOOTSTRAP_FILE));
    const build: CachedBuild = {
      functions: Object.fromEntries(Object.entries(code).map(([id, c]) => [id, { ...c, file: relative(building, c.file) }])),
      inputs: [...new Set([...inputs, ...bootstrapInputs])].sort(),
    };
    const folder = join(BUNDLE_CACHE_DIR, `${key}-${inputsDigest(build.inputs)}`);
    try {
      if (!existsSync(folder)) renameSync(building, folder);
    } catch (error) {
      // Another start built the same inputs first: use that one. Anything else is a real failure.
      if (!existsSync(folder)) throw error;
    }
    // Older builds of this entry are stale now.
    for (const old of readdirSync(BUNDLE_CACHE_DIR).filter((f) => f.startsWith(`${key}-`) && f !== relative(BUNDLE_CACHE_DIR, folder))) {
      rmSync(join(BUNDLE_CACHE_DIR, old), { recursive: true, force: true });
    }
    // The index names the latest build's inputs; written whole, then renamed over the old one.
    writeFileSync(`${index}.${process.pid}`, JSON.stringify(build));
    renameSync(`${index}.${process.pid}`, index);
    const bundles = fromFolder(folder, build);
    if (bundles === undefined) throw new Error(`the bundles built in ${folder} are incomplete`);
    return bundles;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/**
 * Synthesizes the app's stack with bundling into `outdir`: the code of every
 * function, by declared id, and every file that went into the bundles.
 */
export async function synthesizeBundles(app: App, projectRoot: string, outdir: string): Promise<{ code: Record<string, DeployedFunctionCode>; inputs: string[] }> {
  const { App: CdkApp, AssetStaging, CfnElement } = await import('aws-cdk-lib');
  // CDK remembers bundled assets by source path and options, not content, for the life of the process:
  // a second synthesis here (a changed file) would get the first one's bundle without this.
  AssetStaging.clearAssetHashCache();
  const { FerryStack } = await import('../../cdk/stacks/ferry-stack.js');
  const { BUNDLE_METAFILE_CONTEXT } = await import('../../cdk/constructs/ferry-function.js');
  // The project's CDK context (cdk.json's feature flags), as `cdk deploy` gives it; asset metadata names
  // each function's asset folder in the template, as the CLI's synth does; each bundle lists its inputs.
  const context = { ...projectCdkContext(projectRoot), 'aws:cdk:enable-asset-metadata': true, [BUNDLE_METAFILE_CONTEXT]: true };
  const cdkApp = new CdkApp({ outdir, context });
  const stack = new FerryStack(cdkApp, 'Local', { app, projectRoot });
  const synthesized = cdkApp.synth().getStackArtifact(stack.artifactId).template as unknown;
  await rememberPolicies(app, projectRoot, stack, synthesized);
  const template = synthesized as { Resources: Record<string, { Properties?: { Handler?: string }; Metadata?: Record<string, string> }> };
  const code: Record<string, DeployedFunctionCode> = {};
  const inputs = new Set<string>();
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
    // esbuild ran in the project's folder, so the metafile's paths are relative to it.
    const metafile = join(dirname(file), `${fileStem}.meta.json`);
    if (!existsSync(metafile)) throw new Error(`function "${functionId}": bundling wrote no metafile (${metafile})`);
    for (const input of metafileInputs(metafile, projectRoot)) inputs.add(input);
  }
  return { code, inputs: [...inputs] };
}

/** `index.handler` → [`index`, `handler`]: Lambda's Node.js handler string, file then export. */
export function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) throw new Error(`Handler "${handler}" is not <file>.<export>`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
