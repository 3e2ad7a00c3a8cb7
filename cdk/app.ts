/**
 * The CDK app: one `FerryStack` built from Ferry's declaration in `lib/resources.ts`.
 * Stack name `Ferry`, or `cdk deploy -c stackName=...`.
 *
 * cdk-nag's AwsSolutions checks run on every synth: an unsuppressed finding is
 * printed, and an error fails the synth. The accepted ones, with their reasons,
 * are in `cdk/nag-suppressions.ts`.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resources } from '../lib/resources.js';
import { FerryStack } from './stacks/ferry-stack.js';

const app = new App();
const stackName: unknown = app.node.tryGetContext('stackName');

new FerryStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'Ferry', {
  app: resources,
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
});

Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
