import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../e2e/target.js';

const files = (contents: Record<string, string>) => (path: string) => contents[path];
const outputs = (stack: string, apiUrl: string) => JSON.stringify({ [stack]: { ApiUrl: apiUrl, IoQueueUrl: 'x' } });

describe('resolveTarget', () => {
  it('defaults to the embedded local runtime', () => {
    expect(resolveTarget({}, files({}))).toEqual({ kind: 'local' });
  });

  it('reads the LocalStack API URL from the outputs that deploy:localstack writes', () => {
    const url = 'https://abc123.execute-api.localhost.localstack.cloud:4566/prod/';
    expect(resolveTarget({ FERRY_E2E_TARGET: 'localstack' }, files({ 'cdk-outputs.localstack.json': outputs('Ferry', url) }))).toEqual({
      kind: 'localstack',
      apiUrl: 'https://abc123.execute-api.localhost.localstack.cloud:4566/prod',
      source: 'cdk-outputs.localstack.json (Ferry.ApiUrl)',
    });
  });

  it('reads the AWS API URL from cdk-outputs.json, for another stack name when asked', () => {
    const url = 'https://x1y2z3.execute-api.eu-west-1.amazonaws.com/prod/';
    expect(resolveTarget({ FERRY_E2E_TARGET: 'aws', FERRY_STACK: 'FerryDev' }, files({ 'cdk-outputs.json': outputs('FerryDev', url) }))).toMatchObject({
      kind: 'aws',
      apiUrl: 'https://x1y2z3.execute-api.eu-west-1.amazonaws.com/prod',
    });
  });

  it('takes FERRY_API_URL over any outputs file', () => {
    expect(resolveTarget({ FERRY_E2E_TARGET: 'aws', FERRY_API_URL: 'https://api.example.com/prod/' }, files({}))).toEqual({
      kind: 'aws',
      apiUrl: 'https://api.example.com/prod',
      source: 'FERRY_API_URL',
    });
  });

  it('tells the user to deploy first when the outputs file is missing', () => {
    expect(() => resolveTarget({ FERRY_E2E_TARGET: 'localstack' }, files({}))).toThrow(
      'no cdk-outputs.localstack.json: deploy first with `npm run deploy:localstack` (it writes the stack outputs there), or set FERRY_API_URL',
    );
  });

  it('names the stacks it found when the expected one is absent', () => {
    expect(() => resolveTarget({ FERRY_E2E_TARGET: 'aws' }, files({ 'cdk-outputs.json': outputs('Other', 'u') }))).toThrow(
      'cdk-outputs.json has no ApiUrl output for stack "Ferry" (stacks in it: Other)',
    );
  });

  it('refuses an unknown target, naming the allowed ones', () => {
    expect(() => resolveTarget({ FERRY_E2E_TARGET: 'staging' }, files({}))).toThrow('FERRY_E2E_TARGET must be local, localstack or aws (got "staging")');
  });

  it('refuses an outputs file that is not JSON', () => {
    expect(() => resolveTarget({ FERRY_E2E_TARGET: 'aws' }, files({ 'cdk-outputs.json': '{oops' }))).toThrow('cdk-outputs.json is not JSON');
  });
});
