/**
 * Files of a project that decide what its synthesis produces, read the same
 * way by `ferry synth`, the local runtime's in-process syntheses and their
 * caches: its lock file and the CDK context its `cdk.json` sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lock files esbuild bundling recognises, most common first. */
export const LOCK_FILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'] as const;

/** The lock files `projectRoot` has (absolute paths). */
export function lockFilesOf(projectRoot: string): string[] {
  return LOCK_FILES.map((f) => join(projectRoot, f)).filter((f) => existsSync(f));
}

/**
 * The CDK context the `cdk` CLI would give the project's app: `cdk.json`'s
 * `context` (feature flags), then `cdk.context.json` (lookups), as the CLI
 * merges them. An in-process synthesis without it would build with other
 * feature flags than `cdk deploy` does.
 */
export function projectCdkContext(projectRoot: string): Record<string, unknown> {
  const read = (file: string): Record<string, unknown> => {
    const path = join(projectRoot, file);
    if (!existsSync(path)) return {};
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return file === 'cdk.json' ? ((parsed.context as Record<string, unknown> | undefined) ?? {}) : parsed;
  };
  return { ...read('cdk.json'), ...read('cdk.context.json') };
}
