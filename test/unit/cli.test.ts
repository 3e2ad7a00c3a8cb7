/**
 * The `ferry` command's answers to a wrong call: one line saying what to do,
 * exit code 2, nothing written. (What each command does is shown on the packed
 * package by test/package/package.test.ts, and on this repository's app by
 * test/local/npm-start.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appNameOf, templateFiles } from '../../lib/cli/init.js';
import { packageRoot } from '../../lib/cli/load-config.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';

const empty = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function ferry(args: readonly string[], cwd = empty) {
  const tsx = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  return spawnSync(process.execPath, ['--import', tsx, join(PROJECT_ROOT, 'lib', 'cli', 'main.ts'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

describe("a config's project root", () => {
  it('is the nearest folder with a package.json at or above the config (an app in a subfolder names its entries from there)', () => {
    const project = mkdtempSync(join(tmpdir(), 'ferry-project-'));
    writeFileSync(join(project, 'package.json'), '{}\n');
    const sub = join(project, 'notes');
    mkdirSync(join(sub, 'deeper'), { recursive: true });
    expect(packageRoot(sub)).toBe(project);
    expect(packageRoot(join(sub, 'deeper'))).toBe(project);
    expect(packageRoot(project)).toBe(project);
    // This repository's notes service: its entries (notes/functions/...) are named from the repository's root.
    expect(packageRoot(join(PROJECT_ROOT, 'notes'))).toBe(PROJECT_ROOT.replace(/[/\\]$/, ''));
    rmSync(project, { recursive: true, force: true });
  });
});

describe('the ferry command', () => {
  it('names the missing config and how to make one, for dev, synth and deploy', () => {
    for (const command of ['dev', 'synth', 'deploy']) {
      const run = ferry([command]);
      expect(run.status, command).toBe(2);
      expect(run.stderr.trim()).toBe(`ferry: no ferry.config.ts in ${empty}: run "ferry init" to create an app here, or pass --config <file>`);
    }
    expect(readdirSync(empty)).toEqual([]);
  });

  it('refuses a config that exports no app', () => {
    const dir = mkdtempSync(join(empty, 'bad-'));
    writeFileSync(join(dir, 'ferry.config.mjs'), 'export default { name: "nothing" };\n');
    const run = ferry(['synth'], dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/ferry\.config\.mjs must default-export defineConfig\(\{ app: defineApp\(\{\.\.\.\}\) \}\)/);
  });

  it('answers an unknown command or option with usage and exit code 2', () => {
    const unknown = ferry(['serve']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^ferry: unknown command "serve"\n\nUsage: ferry <command>/);
    const option = ferry(['init', '--frobnicate']);
    expect(option.status).toBe(2);
    expect(option.stderr).toMatch(/^ferry: Unknown option '--frobnicate'/);
    expect(ferry(['init', '--name', 'Not A Name']).stderr).toMatch(/--name "Not A Name" must be lower-case letters/);
    expect(existsSync(join(empty, 'ferry.config.ts'))).toBe(false);
  });

  it('names an app after its folder, as an app name must be', () => {
    expect(appNameOf('/home/me/Greeter Service')).toBe('greeter-service');
    expect(appNameOf('/tmp/2024_reports')).toBe('reports');
    expect(appNameOf('/tmp/___')).toBe('my-app');
    expect(templateFiles('greeter')['src/app.ts']).toContain("name: 'greeter'");
  });
});
