/**
 * A REST API (API Gateway v1) with a Lambda proxy integration per route, a
 * throttled `prod` stage, JSON access logs, execution logs of errors, and a
 * request validator on every method.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
  type Method,
  type RequestValidator,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpMethod } from '../../lib/app/declaration.js';

/** One route: requests for `method` on `path` go to `handler`. */
export interface RestRoute {
  /** An HTTP method, or `ANY`. */
  readonly method: HttpMethod;
  /** A resource path such as `/`, `/pings/{id}` or `/files/{proxy+}`. */
  readonly path: string;
  /** The function that serves the route (through a Lambda proxy integration). */
  readonly handler: IFunction;
  /**
   * `iam`: API Gateway refuses (403) any request not SigV4-signed by a principal allowed `execute-api:Invoke` on it.
   * @default 'none'
   */
  readonly authorization?: 'none' | 'iam';
}

export interface FerryRestApiProps {
  /** The routes; each becomes a method on the resource at its path. */
  readonly routes: readonly RestRoute[];
  /**
   * Name of the API.
   * @default the construct's path
   */
  readonly restApiName?: string;
  /**
   * Name of the deployed stage (the first segment of the URL path).
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Content types passed to the functions as base64 and decoded from base64 in answers.
   * @default none
   */
  readonly binaryMediaTypes?: readonly string[];
  /**
   * Steady-state requests per second the stage allows.
   * @default 100
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage allows in a burst.
   * @default 200
   */
  readonly throttlingBurstLimit?: number;
  /**
   * What the stage writes to its CloudWatch execution logs (`API-Gateway-Execution-Logs_{id}/{stage}`,
   * a log group API Gateway creates itself). Needs the account's CloudWatch role (see `cloudWatchRole`).
   * @default MethodLoggingLevel.ERROR
   */
  readonly executionLoggingLevel?: MethodLoggingLevel;
  /**
   * How long access logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: RetentionDays;
  /**
   * Whether to create the account-wide role that lets API Gateway write to
   * CloudWatch Logs. API Gateway refuses a stage with access logging when the
   * account has no such role; set this to false if the account already has one.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
}

export class FerryRestApi extends Construct {
  /** The REST API. */
  readonly api: RestApi;
  /** Where the stage writes its access logs. */
  readonly accessLogGroup: LogGroup;
  /** Each route's method, keyed `METHOD path` (e.g. `GET /pings/{id}`). */
  readonly methods: ReadonlyMap<string, Method>;
  /**
   * Validates required request parameters, and bodies against request models,
   * on every method. The proxy routes declare neither today, so it rejects
   * nothing yet; a route that adds a model or a required parameter is checked
   * by API Gateway before its function runs.
   */
  readonly requestValidator: RequestValidator;

  constructor(scope: Construct, id: string, props: FerryRestApiProps) {
    super(scope, id);
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cloudWatchRole = props.cloudWatchRole ?? true;
    this.api = new RestApi(this, 'Api', {
      ...(props.restApiName !== undefined && { restApiName: props.restApiName }),
      cloudWatchRole,
      ...(cloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      ...(props.binaryMediaTypes !== undefined && props.binaryMediaTypes.length > 0 && { binaryMediaTypes: [...props.binaryMediaTypes] }),
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: props.executionLoggingLevel ?? MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        // X-Ray traces each request through the stage into the function's own trace.
        tracingEnabled: true,
      },
    });

    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    // One integration per function, shared by all of its routes.
    const integrations = new Map<IFunction, LambdaIntegration>();
    const methods = new Map<string, Method>();
    for (const route of props.routes) {
      let integration = integrations.get(route.handler);
      if (integration === undefined) {
        integration = new LambdaIntegration(route.handler, { proxy: true });
        integrations.set(route.handler, integration);
      }
      const resource = route.path === '/' ? this.api.root : this.api.root.resourceForPath(route.path);
      methods.set(`${route.method} ${route.path}`, resource.addMethod(route.method, integration, {
          requestValidator: this.requestValidator,
          ...(route.authorization === 'iam' && { authorizationType: AuthorizationType.IAM }),
        }));
    }
    this.methods = methods;
  }

  /** The URL of the deployed stage. */
  get url(): string {
    return this.api.url;
  }
}
