import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkJava, checkNode, MIN_NODE, parseJavaMajor, PrerequisiteError } from '../../lib/local/preflight.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';

/** An executable script in a fresh folder that prints `output` on stderr, as `java -version` does. */
function fakeJava(output: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-java-'));
  const path = join(dir, 'java');
  writeFileSync(path, `#!/bin/sh\necho '${output}' >&2\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('parseJavaMajor', () => {
  it('reads the major version of the current and the old version schemes', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('no version here')).toBeUndefined();
  });
});

describe('checkJava', () => {
  it('accepts Java 17', () => {
    expect(() => checkJava(fakeJava('openjdk version "17.0.15" 2025-04-15'))).not.toThrow();
  });

  it('names the version found and what to install when Java is too old', () => {
    expect(() => checkJava(fakeJava('java version "1.8.0_392"'))).toThrow(
      /^DynamoDB Local needs Java 17 or newer; `java` on PATH is Java 8: install a Java 17\+ runtime \(Debian\/Ubuntu: sudo apt-get install openjdk-17-jre-headless\)/,
    );
  });

  it('says there is no java on PATH when the command does not exist', () => {
    expect(() => checkJava(join(tmpdir(), 'no-such-dir', 'java'))).toThrow(PrerequisiteError);
    expect(() => checkJava(join(tmpdir(), 'no-such-dir', 'java'))).toThrow(/and there is no `java` on PATH: install a Java 17\+ runtime/);
  });
});

describe('checkNode', () => {
  it('accepts the oldest supported Node.js and newer ones, and refuses older ones naming both versions', () => {
    expect(() => checkNode(`v${MIN_NODE.major}.${MIN_NODE.minor}.0`)).not.toThrow();
    expect(() => checkNode('v22.1.0')).not.toThrow();
    expect(() => checkNode('v20.10.0')).toThrow('Ferry needs Node.js 20.11 or newer; this is v20.10.0: install a newer Node.js');
    expect(() => checkNode('v18.19.1')).toThrow(/this is v18\.19\.1/);
  });

  it('states the same range as package.json engines, which npm enforces (engine-strict)', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.major}.${MIN_NODE.minor}`);
    expect(readFileSync(join(PROJECT_ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
  });
});

describe('npm start without Java', () => {
  it('stops at once with one line that says what to install', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'dev', '--in-memory', '--port', '0'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: join(tmpdir(), 'ferry-empty-path') },
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    const errors = run.stderr.trim().split('\n');
    expect(errors).toEqual([
      'Ferry cannot start: DynamoDB Local needs Java 17 or newer, and there is no `java` on PATH: install a Java 17+ runtime (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) and make sure `java` is on PATH',
    ]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
