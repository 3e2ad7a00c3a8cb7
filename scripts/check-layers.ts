/**
 * `npm run check:layers`: the platform (`lib/`, `cdk/`) imports nothing of an
 * app. Every file the platform's modules reach, followed through every import
 * (madge, with the project's tsconfig so `ferry` paths resolve), must itself
 * be under `lib/` or `cdk/`; a path into `app/`, `functions/`, a config, a
 * test or a benchmark fails the build, naming the importing file.
 *
 * Also run by test/unit/layers.test.ts, which shows it fails on a violation.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import madge from 'madge';

const PLATFORM = ['lib', 'cdk'];

export interface LayerViolation {
  readonly from: string;
  readonly to: string;
}

/** Imports from the platform folders under `root` to anything outside them. */
export async function layerViolations(root: string, folders: readonly string[] = PLATFORM): Promise<LayerViolation[]> {
  // Its `paths` are relative to the project, wherever this runs from (madge would take them from the working directory).
  const tsConfig = JSON.parse(readFileSync(resolve(root, 'tsconfig.json'), 'utf8')) as { compilerOptions?: Record<string, unknown> };
  tsConfig.compilerOptions = { ...tsConfig.compilerOptions, baseUrl: root };
  const result = await madge(
    folders.map((f) => resolve(root, f)),
    { baseDir: root, fileExtensions: ['ts', 'mts', 'cts', 'tsx', 'js', 'mjs'], tsConfig, excludeRegExp: [/\.d\.ts$/] },
  );
  const inside = (file: string) => folders.some((f) => file === f || file.startsWith(`${f}/`));
  const violations: LayerViolation[] = [];
  for (const [from, deps] of Object.entries(result.obj())) {
    if (!inside(from)) continue;
    for (const to of deps) if (!inside(to)) violations.push({ from, to });
  }
  // Modules madge could not resolve are reported too: an unresolved relative import may hide a violation.
  for (const skipped of result.warnings().skipped) {
    if (skipped.startsWith('.')) violations.push({ from: '(unresolved)', to: skipped });
  }
  return violations;
}

async function main(): Promise<void> {
  const root = process.cwd();
  const violations = await layerViolations(root);
  if (violations.length === 0) {
    console.log(`layers: ${PLATFORM.join('/ and ')}/ import nothing outside the platform`);
    return;
  }
  console.error(`layers: the platform imports an app (or a test) in ${violations.length} place(s):`);
  for (const v of violations) console.error(`  ${relative(root, resolve(root, v.from))} -> ${v.to}`);
  process.exit(1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
