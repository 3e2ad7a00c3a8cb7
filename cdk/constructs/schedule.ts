/**
 * An EventBridge rule that invokes a Lambda function on a schedule, optionally
 * with a constant JSON input instead of the scheduled event.
 */
import { Rule, RuleTargetInput, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface FerryScheduleProps {
  /** When to invoke the function: `Schedule.cron(...)`, `Schedule.rate(...)` or `Schedule.expression(...)`. */
  readonly schedule: Schedule;
  /** The function to invoke. */
  readonly target: IFunction;
  /**
   * A constant JSON object passed to the function as its event.
   * @default the EventBridge scheduled event
   */
  readonly input?: Readonly<Record<string, unknown>>;
  /**
   * Free-text description of the rule.
   * @default no description
   */
  readonly description?: string;
  /**
   * Whether the rule is enabled.
   * @default true
   */
  readonly enabled?: boolean;
}

export class FerrySchedule extends Construct {
  /** The EventBridge rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: FerryScheduleProps) {
    super(scope, id);
    const target = new LambdaFunctionTarget(props.target, {
      ...(props.input !== undefined && { event: RuleTargetInput.fromObject(props.input) }),
    });
    this.rule = new Rule(this, 'Rule', {
      schedule: props.schedule,
      targets: [target],
      enabled: props.enabled ?? true,
      ...(props.description !== undefined && { description: props.description }),
    });
  }
}
