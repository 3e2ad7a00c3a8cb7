/**
 * Ferry as a package a team installs: `npm pack` builds the tarball; a new
 * project in a folder outside the repository depends on it, writes its app
 * with `ferry init` (its own queue, task and route), type-checks against the
 * package's `.d.ts`, runs it with `ferry dev` and sees a request's job run to
 * completion, runs its own test with `ferry/testing`, and synthesizes its own
 * stack with `ferry synth`. All offline.
 *
 * The project's node_modules is laid out as npm lays it out, from the real
 * tarball (see ../helpers/installed-package.ts); only the packages Ferry
 * declares are there, and a static check below names any undeclared import.
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFerry, linkPackage, packFerry, runIn, startFerryDev, type PackageJson } from '../helpers/installed-package.js';

const work = mkdtempSync(join(tmpdir(), 'ferry-package-'));
const project = join(work, 'greeter');
let tarball: string;
let files: string[];
let pkg: PackageJson;

const run = (command: string, args: readonly string[]) => runIn(project, command, args);
const ferryBin = () => join(project, 'node_modules', '.bin', 'ferry');

beforeAll(() => {
  tarball = packFerry(work);
  files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  pkg = installFerry(project, tarball);
  // What `ferry init` adds as the project's dev dependencies and Ferry does not already bring (npm's `npm install` after it).
  linkPackage(project, '@types/node');
  linkPackage(project, 'typescript');
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the package npm pack builds', () => {
  it('holds built ESM and type declarations, and no TypeScript sources, tests or benchmarks', () => {
    const inside = files.map((f) => f.replace(/^package\//, ''));
    expect(inside).toContain('package.json');
    expect(inside).toContain('README.md');
    expect(inside.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(inside.filter((f) => /^(test|bench|app|functions|scripts|docs)\//.test(f) || f.includes('/test/'))).toEqual([]);
    expect(inside.every((f) => f === 'package.json' || f === 'README.md' || f.startsWith('dist/'))).toBe(true);
    // Every built module has its declaration.
    for (const js of inside.filter((f) => f.endsWith('.js'))) expect(inside, js).toContain(js.replace(/\.js$/, '.d.ts'));
  });

  it('exports ferry, ferry/cdk, ferry/local and ferry/testing, each with types, and a ferry bin that runs', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './cdk', './local', './package.json', './testing']);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const paths = typeof target === 'string' ? [target] : [target.types, target.import];
      for (const p of paths) expect(existsSync(join(project, 'node_modules', 'ferry', p)), `${subpath}: ${p}`).toBe(true);
    }
    const help = run(ferryBin(), ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ferry <command>/);
    expect(help.stdout).toMatch(/dev .*\n.*synth .*\n.*deploy .*\n.*init /);
  });

  it('declares every package its built files import (AWS CDK as peers, the AWS SDK as dependencies)', () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const undeclared = new Map<string, string>();
    const dist = join(project, 'node_modules', 'ferry', 'dist');
    // The .d.ts too: a type a declaration imports from an undeclared package silently becomes any for the user.
    for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const text = readFileSync(join(dist, file), 'utf8');
      const specifiers = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'".][^'"]*)['"]/gms), ...text.matchAll(/\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)];
      for (const [, specifier] of specifiers) {
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        // `ferry` itself (a package may import itself by name; the seed app's templates do) and Node's `node:` modules need no declaration.
        const builtin = specifier!.startsWith('node:') || builtins.has(name);
        // In a declaration file, `aws-lambda` is satisfied by `@types/aws-lambda`.
        const typesOf = `@types/${name.replace(/^@([^/]+)\//, '$1__')}`;
        if (!builtin && name !== pkg.name && !declared.has(name) && !(file.endsWith('.d.ts') && declared.has(typesOf))) undeclared.set(name, file);
      }
    }
    expect(Object.fromEntries(undeclared)).toEqual({});
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk', 'aws-cdk-lib', 'constructs']);
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['@aws-sdk/client-sqs', '@types/aws-lambda']));
  });
});

describe('a new project outside the repository, on the installed package', () => {
  it('ferry init writes an app of its own: a queue, a task, routes, a test and a config', () => {
    // As the README's five minutes start: npm's own package.json first (CommonJS, a placeholder test script).
    expect(run('npm', ['init', '-y']).status).toBe(0);
    const init = run(ferryBin(), ['init']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    for (const file of ['ferry.config.ts', 'src/app.ts', 'src/tasks.ts', 'functions/api.ts', 'functions/worker.ts', 'test/app.test.ts', 'package.json', 'tsconfig.json']) {
      expect(existsSync(join(project, file)), file).toBe(true);
    }
    expect(readFileSync(join(project, 'src', 'app.ts'), 'utf8')).toContain("name: 'greeter'");
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { type: string; scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(manifest.type).toBe('module');
    expect(manifest.scripts).toMatchObject({ start: 'ferry dev', test: 'node --import tsx --test test/*.test.ts', synth: 'ferry synth' });
    // What the app runs with besides Ferry is declared (npm init -y may already have listed some of it as dependencies).
    const declared = { ...(manifest as { dependencies?: Record<string, string> }).dependencies, ...manifest.devDependencies };
    for (const dep of ['@types/node', 'esbuild', 'tsx', 'typescript']) expect(declared, dep).toHaveProperty([dep]);
    // It refuses to write over an app that exists.
    const again = run(ferryBin(), ['init']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/writes no file that exists.*ferry\.config\.ts/);
  });

  it('type-checks against the package declarations alone', () => {
    // A probe: the event a route gets is API Gateway's type, not any (the declarations' own imports resolve).
    const probe = join(project, 'src', 'probe.ts');
    writeFileSync(
      probe,
      `import { createRestApi, json } from 'ferry';
export const probe = createRestApi({
  'GET /x': async (event) => {
    // @ts-expect-error API Gateway's event has no such field
    void event.notAField;
    return json(200, { path: event.path });
  },
});
`,
    );
    try {
      const tsc = run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', project]);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
    } finally {
      rmSync(probe);
    }
  });

  it('ferry dev runs it: a request enqueues a job, the worker runs it to completion, a bad request gets a 400', async () => {
    const dev = await startFerryDev(project);
    const { url } = dev;
    try {
      const posted = await fetch(`${url}/greetings`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
      expect(posted.status).toBe(202);
      const { jobId } = (await posted.json()) as { jobId: string };
      expect(posted.headers.get('location')).toMatch(new RegExp(`/greetings/${jobId}$`));
      let job: { status: string; result?: unknown } = { status: 'QUEUED' };
      const deadline = Date.now() + 30_000;
      while (job.status !== 'SUCCEEDED' && job.status !== 'FAILED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        job = (await (await fetch(`${url}/greetings/${jobId}`)).json()) as typeof job;
      }
      expect(job).toMatchObject({ status: 'SUCCEEDED', result: { greeting: 'Hello, Ada!' }, attempts: 1 });
      // The deployed stage's path works too.
      expect((await fetch(`${url}/prod/greetings/${jobId}`)).status).toBe(200);
      const bad = await fetch(`${url}/greetings`, { method: 'POST', body: JSON.stringify({ name: '' }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/invalid input for task "greet": name/);
      // One message sent (the bad request sent none), and deleted once its batch was handled.
      const stats = async () => ((await (await fetch(`${url}/_ferry/stats`)).json()) as { queues: Record<string, { sent: number; deleted: number }> }).queues.io;
      const until = Date.now() + 10_000;
      while ((await stats())?.deleted !== 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(await stats()).toMatchObject({ sent: 1, deleted: 1 });
    } finally {
      expect(await dev.stop()).toBe(0);
    }
  }, 120_000);

  it('its own test, written with ferry/testing, passes with npm test', () => {
    const test = run('npm', ['test']);
    expect(test.stdout).toMatch(/# pass 2\n# fail 0/);
    expect(test.status).toBe(0);
  });

  it('ferry synth synthesizes its own stack with Ferry constructs, offline', () => {
    const synth = run(ferryBin(), ['synth']);
    expect(synth.stdout).toMatch(/synthesized stack Greeter of greeter/);
    expect(synth.status).toBe(0);
    const template = JSON.parse(readFileSync(join(project, 'cdk.out', 'Greeter.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
    expect(ofType('AWS::Lambda::Function').map((f) => f.Properties?.Runtime)).toEqual(['nodejs22.x', 'nodejs22.x']);
    expect(ofType('AWS::SQS::Queue')).toHaveLength(2); // io and its dead-letter queue
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
    expect(ofType('AWS::Lambda::EventSourceMapping')).toHaveLength(1);
    expect(ofType('AWS::ApiGateway::Method').length).toBeGreaterThanOrEqual(2);
    // The function bundles are in the assembly: what `cdk deploy` would upload.
    const assets = readdirSync(join(project, 'cdk.out')).filter((f) => f.startsWith('asset.'));
    expect(assets.filter((a) => existsSync(join(project, 'cdk.out', a, 'index.mjs')))).toHaveLength(2);
    // The AWS CDK CLI synthesizes the same stack through `ferry cdk-app`, the app `ferry deploy` hands it (and a cdk.json can name).
    rmSync(join(project, 'cdk.out'), { recursive: true, force: true });
    const cdk = run(join(project, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '-q', '--app', 'npx ferry cdk-app']);
    expect(cdk.stderr).not.toMatch(/error/i);
    expect(cdk.status).toBe(0);
    const viaCli = JSON.parse(readFileSync(join(project, 'cdk.out', 'Greeter.template.json'), 'utf8')) as typeof template;
    // The CLI adds its version-reporting resource (AWS::CDK::Metadata), and its environment changes the
    // hash in the API deployment's id (a hash of the API's settings); everything else is the same.
    const shape = (t: typeof template) =>
      Object.entries(t.Resources)
        .filter(([, r]) => r.Type !== 'AWS::CDK::Metadata')
        .map(([id, r]) => `${r.Type === 'AWS::ApiGateway::Deployment' ? id.slice(0, -32) : id} ${r.Type}`)
        .sort();
    expect(shape(viaCli)).toEqual(shape(template));
    // cdk-nag's AwsSolutions checks ran on the synth.
    expect(readdirSync(join(project, 'cdk.out')).filter((f) => /^AwsSolutions-.*Greeter-NagReport\.csv$/.test(f))).toHaveLength(1);
  }, 120_000);
});
