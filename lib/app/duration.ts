/**
 * A length of time with its unit carried in the type, so that no option ever
 * takes a bare number whose unit must be guessed.
 */
export interface Duration {
  readonly milliseconds: number;
}

function duration(milliseconds: number, label: string): Duration {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw new RangeError(`${label} must be a finite, non-negative length of time (got ${milliseconds})`);
  }
  return Object.freeze({ milliseconds });
}

export const millis = (n: number): Duration => duration(n, 'millis()');
export const seconds = (n: number): Duration => duration(n * 1000, 'seconds()');
export const minutes = (n: number): Duration => duration(n * 60_000, 'minutes()');
export const hours = (n: number): Duration => duration(n * 3_600_000, 'hours()');
export const days = (n: number): Duration => duration(n * 86_400_000, 'days()');

/** Whole seconds, as SQS, Lambda and CloudFormation take them. Throws if `d` is not a whole number of seconds. */
export function toWholeSeconds(d: Duration, label: string): number {
  const s = d.milliseconds / 1000;
  if (!Number.isInteger(s)) {
    throw new RangeError(`${label} must be a whole number of seconds (got ${d.milliseconds} ms)`);
  }
  return s;
}
