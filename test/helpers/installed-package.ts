/**
 * Ferry packed and installed in a project of its own, offline: `npm pack` of a
 * copy of the package's sources (its prepack builds dist/, so this
 * repository's dist/ is untouched), then the project's node_modules laid out
 * as npm lays it out: the tarball unpacked in node_modules/ferry with its bin
 * linked, and each package it declares (dependencies and peer dependencies)
 * at the top level with its bins. Those packages are linked from this
 * repository's node_modules rather than fetched: the tests run offline, and
 * npm cannot resolve version ranges without the registry. Only declared
 * packages are linked, so an import the package does not declare fails.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from './repo-root.js';

export interface PackageJson {
  name: string;
  version: string;
  bin?: Record<string, string> | string;
  exports: Record<string, string | { types: string; import: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

/** The environment every npm call here runs with: offline, no audit, no funding or update notices. */
export const OFFLINE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

/** Packs Ferry into `work` (a folder of the caller's); returns the tarball's path. */
export function packFerry(work: string): string {
  const staging = join(work, 'staging');
  mkdirSync(staging);
  for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'lib', 'cdk']) {
    cpSync(join(PROJECT_ROOT, entry), join(staging, entry), { recursive: true });
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(staging, 'node_modules'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: staging, env: OFFLINE_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [result] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string }];
  return join(work, result.filename);
}

/** Links `name` from this repository's node_modules into `project`'s, with its bins in node_modules/.bin. */
export function linkPackage(project: string, name: string): void {
  const from = join(PROJECT_ROOT, 'node_modules', name);
  const to = join(project, 'node_modules', name);
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(from, to);
  const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { name: string; bin?: string | Record<string, string> };
  const bins = typeof manifest.bin === 'string' ? { [manifest.name.replace(/^@[^/]+\//, '')]: manifest.bin } : (manifest.bin ?? {});
  for (const [bin, file] of Object.entries(bins)) symlinkSync(join('..', name, file), join(project, 'node_modules', '.bin', bin));
}

/** Installs `tarball` into `project` (created if missing) as described above; returns the installed package.json. */
export function installFerry(project: string, tarball: string): PackageJson {
  mkdirSync(join(project, 'node_modules', 'ferry'), { recursive: true });
  mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', join(project, 'node_modules', 'ferry'), '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'ferry', 'package.json'), 'utf8')) as PackageJson;
  for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]) linkPackage(project, name);
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.ferry;
  if (bin === undefined) throw new Error('the package declares no "ferry" bin');
  symlinkSync(join('..', 'ferry', bin), join(project, 'node_modules', '.bin', 'ferry'));
  return pkg;
}

/** Runs `command` in `cwd` with {@link OFFLINE_ENV}. */
export function runIn(cwd: string, command: string, args: readonly string[], timeout = 180_000) {
  return spawnSync(command, args, { cwd, env: OFFLINE_ENV, encoding: 'utf8', timeout });
}

export interface RunningFerryDev {
  readonly child: ChildProcess;
  /** The local API's base URL, as `ferry dev` prints it. */
  readonly url: string;
  /** From the spawn to the banner's last line. */
  readonly readyMs: number;
  /** Ctrl-C, as a person stops it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the installed `ferry dev` (in memory, on a free port) in `project` and
 * waits for its banner; throws with its stderr if it exits first or does not
 * start within 90 s. Its later output is read and dropped, so its pipe never fills.
 */
export async function startFerryDev(project: string, env: NodeJS.ProcessEnv = OFFLINE_ENV): Promise<RunningFerryDev> {
  const started = performance.now();
  const child = spawn(join(project, 'node_modules', '.bin', 'ferry'), ['dev', '--in-memory', '--port', '0'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    return exited;
  };
  const lines = createInterface({ input: child.stdout });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 90_000);
  let url: string | undefined;
  try {
    for await (const line of lines) {
      url = /^\s+API\s+(http:\/\/\S+)/.exec(line)?.[1] ?? url;
      if (line.startsWith('Press Ctrl-C') && url !== undefined) {
        lines.on('line', () => undefined);
        return { child, url, readyMs: performance.now() - started, stop };
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  throw new Error(`ferry dev exited before it was running: ${stderr}`);
}
