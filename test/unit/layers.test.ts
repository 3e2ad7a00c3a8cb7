/**
 * The dependency check behind `npm run check:layers`: the platform (`lib/`,
 * `cdk/`) imports nothing of an app. Run on this repository (clean), and on a
 * small project whose platform reaches into its app, directly, through
 * another platform file, and through the `ferry`-style `paths` alias.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerViolations } from '../../scripts/check-layers.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';

const root = mkdtempSync(join(tmpdir(), 'ferry-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

describe('the layer check', () => {
  it('finds no import from lib/ or cdk/ into the report service, its functions, tests or benchmarks', async () => {
    expect(await layerViolations(PROJECT_ROOT)).toEqual([]);
  });

  it('names every platform file that reaches an app, directly or through an alias', async () => {
    write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', paths: { '#app': ['./app/api.ts'] } } }));
    write('app/api.ts', "export const routes = 1;\n");
    write('app/tasks.ts', "export const tasks = 2;\n");
    write('test/helper.ts', "export const helper = 3;\n");
    write('lib/clean.ts', "export const clean = 0;\n");
    write('lib/direct.ts', "import { tasks } from '../app/tasks.js';\nexport const direct = tasks;\n");
    write('lib/aliased.ts', "import { routes } from '#app';\nexport const aliased = routes;\n");
    write('cdk/stack.ts', "import { helper } from '../test/helper.js';\nimport { clean } from '../lib/clean.js';\nexport const stack = helper + clean;\n");
    const found = await layerViolations(root);
    expect(found).toEqual(
      expect.arrayContaining([
        { from: 'lib/direct.ts', to: 'app/tasks.ts' },
        { from: 'lib/aliased.ts', to: 'app/api.ts' },
        { from: 'cdk/stack.ts', to: 'test/helper.ts' },
      ]),
    );
    expect(found).toHaveLength(3);
  });
});
