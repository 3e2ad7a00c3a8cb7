/**
 * The one place a Ferry {@link LibDuration} becomes a CDK {@link Duration}.
 */
import { Duration } from 'aws-cdk-lib';
import { type Duration as LibDuration, toWholeSeconds } from '../../lib/app/duration.js';

/**
 * Converts a declared length of time to a CDK `Duration` in whole seconds, as
 * SQS, Lambda and CloudFormation take them. Throws (naming `label`) if `d` is
 * not a whole number of seconds.
 */
export function cdkDuration(d: LibDuration, label: string): Duration {
  return Duration.seconds(toWholeSeconds(d, label));
}
