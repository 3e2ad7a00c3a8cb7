/**
 * A TypeScript Lambda function bundled by esbuild as ESM for Node 22 on ARM,
 * with its own log group.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Lets `require` work inside an ESM bundle (for CommonJS dependencies that call it). */
export const ESM_REQUIRE_SHIM = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface FerryFunctionProps {
  /** Directory the entry and `package-lock.json` are relative to; also the bundling root. */
  readonly projectRoot: string;
  /** Entry file, relative to `projectRoot`. */
  readonly entry: string;
  /**
   * Name of the exported handler in the entry file.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Longest an invocation may run.
   * @default Duration.seconds(3)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Environment variables, besides `NODE_OPTIONS=--enable-source-maps` which is always set.
   * @default no other variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Free-text description of the function.
   * @default no description
   */
  readonly description?: string;
}

export class FerryFunction extends Construct {
  /** The Lambda function. */
  readonly function: NodejsFunction;
  /** The function's log group. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: FerryFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.function = new NodejsFunction(this, 'Function', {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      entry: path.resolve(props.projectRoot, props.entry),
      handler: props.handler ?? 'handler',
      timeout: props.timeout ?? Duration.seconds(3),
      memorySize: props.memorySize ?? 512,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      logGroup: this.logGroup,
      ...(props.description !== undefined && { description: props.description }),
      bundling: {
        format: OutputFormat.ESM,
        sourceMap: true,
        target: 'node22',
        minify: true,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
      },
    });
  }
}
