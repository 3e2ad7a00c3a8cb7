/**
 * A TypeScript Lambda function bundled by esbuild as ESM for Node 22 on ARM,
 * with its own log group and its own role, which may write only to that log
 * group (instead of the AWS-managed `AWSLambdaBasicExecutionRole`, which may
 * create and write to any log group in the account), traced by X-Ray.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, RecursiveLoop, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lockFilesOf } from '../../lib/util/project-files.js';

/** Lets `require` work inside an ESM bundle (for CommonJS dependencies that call it). */
/** Context key that makes every function's bundling also write esbuild's metafile (`index.meta.json`). */
export const BUNDLE_METAFILE_CONTEXT = 'ferry:bundle-metafile';

export const ESM_REQUIRE_SHIM = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** How long an invocation may run when no `timeout` is given (Lambda's own default). */
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(3);

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
   * @default DEFAULT_FUNCTION_TIMEOUT (3 seconds)
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
  /**
   * The execution role. It is granted write access to the function's log group
   * either way; grants made later (tables, queues) are added to it.
   * @default a new role trusted by Lambda, with no permissions but writing to the function's log group
   */
  readonly role?: IRole;
  /**
   * X-Ray active tracing: Lambda samples invocations and records their
   * segments (the role may then call `xray:PutTraceSegments` and
   * `xray:PutTelemetryRecords`, which take no resource-level permissions).
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Let invocations continue a loop through SQS (Lambda's recursive loop
   * detection otherwise stops one after about 16 rounds): for a worker that
   * sends to a queue it or another worker consumes by design (a delay past
   * 15 minutes sent on, a workflow's next members).
   * @default false (Lambda's default: loops are stopped)
   */
  readonly allowRecursiveLoop?: boolean;
}

export class FerryFunction extends Construct {
  /** The Lambda function. */
  readonly function: NodejsFunction;
  /** The function's log group. */
  readonly logGroup: LogGroup;
  /** The function's execution role. */
  readonly role: IRole;

  constructor(scope: Construct, id: string, props: FerryFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role =
      props.role ??
      new Role(this, 'Role', {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        ...(props.description !== undefined && { description: `Execution role of ${props.description}` }),
      });
    // logs:CreateLogStream and logs:PutLogEvents on this log group only.
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      projectRoot: props.projectRoot,
      depsLockFilePath: lockFileOf(props.projectRoot),
      entry: path.resolve(props.projectRoot, props.entry),
      handler: props.handler ?? 'handler',
      timeout: props.timeout ?? DEFAULT_FUNCTION_TIMEOUT,
      role: this.role,
      memorySize: props.memorySize ?? 512,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      logGroup: this.logGroup,
      tracing: props.tracing === false ? Tracing.DISABLED : Tracing.ACTIVE,
      ...(props.allowRecursiveLoop === true && { recursiveLoop: RecursiveLoop.ALLOW }),
      ...(props.description !== undefined && { description: props.description }),
      bundling: {
        format: OutputFormat.ESM,
        sourceMap: true,
        target: 'node22',
        minify: true,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
        // The AWS SDK goes into the bundle (not Lambda's own copy): the version
        // deployed is the one package-lock.json pins and the tests run.
        externalModules: [],
        // The local runtime's synthesis asks for esbuild's list of inputs, to know when its cached bundles are stale.
        metafile: this.node.tryGetContext(BUNDLE_METAFILE_CONTEXT) === true,
      },
    });
  }
}

/**
 * The project's lock file, which marks its root for bundling and names its
 * package manager; `package.json` for a project that has none yet (its
 * dependencies were laid out by hand): bundling reads no lock file's content.
 */
function lockFileOf(projectRoot: string): string {
  return lockFilesOf(projectRoot)[0] ?? [path.join(projectRoot, 'package.json')].find((f) => existsSync(f)) ?? path.join(projectRoot, 'package-lock.json');
}
