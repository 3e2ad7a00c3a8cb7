/**
 * The code the deployed stack runs: `cdk synth` of the app's stack, with
 * bundling (esbuild, as `npm run synth` and `cdk deploy` do, the AWS SDK
 * inside), in this process, into a cloud assembly folder. For each function,
 * the bundle's file and the handler export the template names. The local
 * runtime can run these instead of the TypeScript sources, so a bundling
 * error, a wrong handler path or a module that only resolves from the sources
 * fails locally.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../app/define-app.js';

export interface DeployedFunctionCode {
  /** The bundle's entry file (`asset.<hash>/index.mjs`). */
  readonly file: string;
  /** The export the template's `Handler` (`index.handler`) names. */
  readonly handler: string;
}

/** Synthesizes the app's stack with bundling into `outdir`; the code of every function, by declared id. */
export async function synthesizeBundles(app: App, projectRoot: string, outdir: string): Promise<Record<string, DeployedFunctionCode>> {
  const { App: CdkApp, CfnElement } = await import('aws-cdk-lib');
  const { FerryStack } = await import('../../cdk/stacks/ferry-stack.js');
  // Asset metadata names each function's asset folder in the template, as the CLI's synth does.
  const cdkApp = new CdkApp({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new FerryStack(cdkApp, 'Local', { app, projectRoot });
  const template = cdkApp.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Properties?: { Handler?: string }; Metadata?: Record<string, string> }>;
  };
  const code: Record<string, DeployedFunctionCode> = {};
  for (const [functionId, fn] of stack.functions) {
    const cfn = fn.node.defaultChild;
    if (!(cfn instanceof CfnElement)) throw new Error(`function "${functionId}" has no CloudFormation resource`);
    const resource = template.Resources[stack.getLogicalId(cfn)];
    const assetPath = resource?.Metadata?.['aws:asset:path'];
    const handler = resource?.Properties?.Handler;
    if (assetPath === undefined || handler === undefined) throw new Error(`the template gives function "${functionId}" no asset path or handler`);
    const [fileStem, exportName] = splitHandler(handler);
    const file = ['.mjs', '.js', '.cjs'].map((ext) => join(outdir, assetPath, `${fileStem}${ext}`)).find((f) => existsSync(f));
    if (file === undefined) throw new Error(`function "${functionId}": no ${fileStem}.mjs or .js in ${join(outdir, assetPath)} (Handler ${handler})`);
    code[functionId] = { file, handler: exportName };
  }
  return code;
}

/** `index.handler` → [`index`, `handler`]: Lambda's Node.js handler string, file then export. */
export function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) throw new Error(`Handler "${handler}" is not <file>.<export>`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
