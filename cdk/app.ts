/**
 * The CDK app: one `FerryStack` built from Ferry's declaration in `lib/resources.ts`.
 * Stack name `Ferry`, or `cdk deploy -c stackName=...`.
 */
import { App } from 'aws-cdk-lib';
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
