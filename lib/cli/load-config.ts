/**
 * Finds and loads a project's `ferry.config.ts` (or `.mts`, `.js`, `.mjs`):
 * the file named by `--config`, else the first of those in the working
 * directory. TypeScript is loaded through tsx (a dependency of Ferry), so a
 * project needs no build step for `ferry dev`, `ferry synth` or `ferry deploy`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FerryConfig } from '../app/config.js';

export const CONFIG_FILES = ['ferry.config.ts', 'ferry.config.mts', 'ferry.config.js', 'ferry.config.mjs'] as const;

/** The CLI was pointed at no usable config; the message says what to do. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadedConfig {
  readonly config: FerryConfig;
  readonly file: string;
  /**
   * The project's root: the nearest folder at or above the config that has a
   * `package.json` (else the config's own folder). Function entries,
   * `package-lock.json` and `cdk.json` are relative to it, as CDK's
   * `NodejsFunction` takes them, so an app in a subfolder (`notes/`) of a
   * package names its entries from the package's root.
   */
  readonly projectRoot: string;
}

/** The config file for `explicit` (a path) or the one in `cwd`. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(`--config ${explicit}: no such file`);
    return file;
  }
  const file = CONFIG_FILES.map((name) => join(cwd, name)).find((f) => existsSync(f));
  if (file === undefined) {
    throw new ConfigError(`no ${CONFIG_FILES[0]} in ${cwd}: run "ferry init" to create an app here, or pass --config <file>`);
  }
  return file;
}

/** Whether this process already runs under tsx's loader (`tsx ...`, `node --import tsx`): this repository's `npm start`. */
function underTsx(): boolean {
  return process.execArgv.some((arg) => /(^|[/\\@])tsx([/\\]|$)/.test(arg));
}

async function importFile(file: string): Promise<unknown> {
  // TypeScript (the config, its app, the functions of `ferry dev --sources`) is always loaded
  // through tsx, never by Node's own type stripping (Node 22.18+), which maps no `./app.js`
  // import to `app.ts` as every config and app here writes it.
  if (!underTsx()) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return import(pathToFileURL(file).href);
}

/** Loads and checks the project's config. */
export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  const file = findConfig(cwd, explicit);
  const loaded = (await importFile(file)) as { default?: unknown };
  const config = loaded.default as Partial<FerryConfig> | undefined;
  if (typeof config !== 'object' || config === null || typeof config.app !== 'object' || config.app === null || !Array.isArray(config.app.functions)) {
    throw new ConfigError(`${file} must default-export defineConfig({ app: defineApp({...}) }) (from 'ferry')`);
  }
  return { config: config as FerryConfig, file, projectRoot: packageRoot(dirname(file)) };
}

/** The nearest folder at or above `dir` with a `package.json`; `dir` itself when none has. */
export function packageRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) return dir;
  }
}
