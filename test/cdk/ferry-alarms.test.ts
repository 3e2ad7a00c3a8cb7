import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { FerryAlarms } from '../../cdk/constructs/ferry-alarms.js';
import { FerryDashboard } from '../../cdk/constructs/ferry-dashboard.js';

const ARN = 'arn:aws:sqs:eu-west-1:123456789012';

/** A stack with `FerryAlarms` over an imported queue pair and an imported function. */
function alarmStack(options: { maxMessageAge?: Duration; withTopic?: boolean } = {}): { stack: Stack; alarms: FerryAlarms } {
  const stack = new Stack(new App(), 'Test');
  const alarms = new FerryAlarms(stack, 'Alarms', {
    queues: {
      jobs: {
        queue: Queue.fromQueueArn(stack, 'Jobs', `${ARN}:jobs`),
        deadLetterQueue: Queue.fromQueueArn(stack, 'JobsDlq', `${ARN}:jobs-dlq`),
      },
    },
    functions: { worker: LambdaFunction.fromFunctionArn(stack, 'Worker', 'arn:aws:lambda:eu-west-1:123456789012:function:worker-fn') },
    ...(options.maxMessageAge !== undefined && { maxMessageAge: options.maxMessageAge }),
    ...(options.withTopic === true && { alarmTopic: new Topic(stack, 'Ops') }),
  });
  return { stack, alarms };
}

describe('FerryAlarms', () => {
  it('watches imported queues and functions: dead letters, oldest message age, errors and throttles', () => {
    const { stack, alarms } = alarmStack();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'jobs-dlq' }],
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'jobs' }],
      Threshold: 900,
    });
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: 'worker-fn' }],
        Threshold: 0,
        AlarmActions: Match.absent(),
      });
    }
    expect([...alarms.deadLetterAlarms.keys(), ...alarms.messageAgeAlarms.keys()]).toEqual(['jobs', 'jobs']);
    expect([...alarms.errorAlarms.keys(), ...alarms.throttleAlarms.keys()]).toEqual(['worker', 'worker']);
  });

  it('sends every alarm to the topic when one is given', () => {
    const { stack } = alarmStack({ withTopic: true });
    const template = Template.fromStack(stack);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topicId }] });
  });

  it('alarms on message age at the given maximum', () => {
    const { stack } = alarmStack({ maxMessageAge: Duration.hours(1) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600 });
  });

  it('refuses a maximum message age under one second', () => {
    expect(() => alarmStack({ maxMessageAge: Duration.seconds(0) })).toThrow('Test/Alarms: maxMessageAge must be at least 1 second (got 0 seconds)');
  });
});

describe('FerryDashboard', () => {
  it("sums each outcome over this stack's queues, one graph per 24 queues (a graph holds 100 metrics and expressions)", () => {
    const stack = new Stack(new App(), 'Dash');
    const queues = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`q${i}`, { queue: new Queue(stack, `Q${i}`), deadLetterQueue: new Queue(stack, `D${i}`) }]));
    new FerryDashboard(stack, 'Dashboard', { queues, functions: {} });
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardBody: unknown } }[];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    const graphs = [...body.matchAll(/Jobs by outcome: ([^\\"]+)/g)].map((m) => m[1]?.split(', '));
    expect(graphs.map((g) => g?.length)).toEqual([24, 6]);
    expect(graphs.flat()).toEqual(Object.keys(queues));
    // Each graph: 4 expressions over 4 × its queues' metrics, within the 100.
    expect(body).toContain(`SUM([${Array.from({ length: 24 }, (_, i) => `FILL(failed${i}, 0)`).join(', ')}])`);
    expect(body).toContain(`SUM([${Array.from({ length: 6 }, (_, i) => `FILL(failed${i}, 0)`).join(', ')}])`);
  });
});
