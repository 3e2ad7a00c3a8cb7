/**
 * The local runtime's bundle cache (lib/local/deployed-bundles.ts) reuses a
 * build exactly while every file that went into it is unchanged: a file in a
 * folder of any name, reached through an entry written `./functions/...`,
 * rebuilds when it changes, and a restart with nothing changed bundles
 * nothing. Real synthesis and esbuild, on a project in a temporary folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';
import { deployedBundles } from '../../lib/local/deployed-bundles.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';

const project = mkdtempSync(join(tmpdir(), 'ferry-bundle-cache-test-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const app = defineApp({
  name: 'cachetest',
  functions: { greeter: { entry: './functions/greeter.ts', timeout: seconds(3) } },
});

function greeting(text: string): void {
  writeFileSync(join(project, 'shared', 'greeting.ts'), `export const greeting = ${JSON.stringify(text)};\n`);
}

describe('the bundle cache', () => {
  it('rebuilds when a bundled file changes, wherever it lives, and only then', async () => {
    writeFileSync(join(project, 'package.json'), '{ "name": "cachetest", "type": "module" }\n');
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(project, 'node_modules'));
    mkdirSync(join(project, 'functions'));
    mkdirSync(join(project, 'shared'));
    writeFileSync(join(project, 'functions', 'greeter.ts'), "import { greeting } from '../shared/greeting.js';\nexport const handler = async () => greeting;\n");
    greeting('hello, first');

    const first = await deployedBundles(app, project);
    const firstFile = first.functions.greeter!.file;
    expect(readFileSync(firstFile, 'utf8')).toContain('hello, first');

    // Nothing changed: the same build, not a new one.
    const again = await deployedBundles(app, project);
    expect(again.functions.greeter!.file).toBe(firstFile);

    // A file outside any conventional source folder changed: bundled again, with the change.
    greeting('hello, second');
    const changed = await deployedBundles(app, project);
    expect(changed.functions.greeter!.file).not.toBe(firstFile);
    expect(readFileSync(changed.functions.greeter!.file, 'utf8')).toContain('hello, second');

    // So did the entry itself.
    writeFileSync(join(project, 'functions', 'greeter.ts'), "import { greeting } from '../shared/greeting.js';\nexport const handler = async () => `${greeting}!`;\n");
    const entryChanged = await deployedBundles(app, project);
    expect(readFileSync(entryChanged.functions.greeter!.file, 'utf8')).toMatch(/hello, second.*!/s);
  }, 120_000);
});
