/**
 * The file of a module beside another: its TypeScript source when Ferry runs
 * from its sources (tsx, the tests), its built `.js` when it runs from the
 * installed package. `from` is the caller's `import.meta.url`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function siblingModule(from: string, relativeStem: string): string {
  return fileURLToPath(new URL(`${relativeStem}${from.endsWith('.ts') ? '.ts' : '.js'}`, from));
}

/** Whether the caller (by its `import.meta.url`) runs from TypeScript sources rather than the built package. */
export function runsFromSources(from: string): boolean {
  return from.endsWith('.ts');
}

/** Ferry's own package.json: the nearest one above `from` (the sources' root, or the installed package's). */
export function ferryPackageJson(from: string): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return file;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(from)}`);
    dir = parent;
  }
}
