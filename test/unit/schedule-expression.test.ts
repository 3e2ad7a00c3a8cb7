import { describe, it, expect } from 'vitest';
import {
  InvalidScheduleExpressionError,
  nextFireTime,
  parseScheduleExpression,
  type CronSchedule,
} from '../../lib/app/schedule-expression.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const EPOCH = new Date(0);

/** Parses `expression` and returns its next fire time after `after`, as an ISO string. */
function next(expression: string, after: string, anchor: string = after): string | undefined {
  return nextFireTime(parseScheduleExpression(expression), new Date(after), new Date(anchor))?.toISOString();
}

function parseCron(expression: string): CronSchedule {
  const parsed = parseScheduleExpression(expression);
  if (parsed.kind !== 'cron') throw new Error(`expected a cron schedule from ${expression}`);
  return parsed;
}

function range(from: number, to: number, step = 1): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

describe('parseScheduleExpression', () => {
  describe('rate expressions', () => {
    it.each([
      ['rate(1 minute)', MINUTE],
      ['rate(5 minutes)', 5 * MINUTE],
      ['rate(1 hour)', HOUR],
      ['rate(12 hours)', 12 * HOUR],
      ['rate(1 day)', DAY],
      ['rate(7 days)', 7 * DAY],
    ])('parses %s into an interval of %i ms', (expression, intervalMs) => {
      expect(parseScheduleExpression(expression)).toEqual({ kind: 'rate', intervalMs, source: expression });
    });

    it('requires the singular unit when the value is 1', () => {
      expect(() => parseScheduleExpression('rate(1 minutes)')).toThrow(
        /rate\(1 minutes\).*value of 1 takes the singular unit "minute", not "minutes"/,
      );
      expect(() => parseScheduleExpression('rate(1 days)')).toThrow(/singular unit "day"/);
    });

    it('requires the plural unit when the value is greater than 1', () => {
      expect(() => parseScheduleExpression('rate(5 minute)')).toThrow(
        /rate\(5 minute\).*value of 5 takes the plural unit "minutes", not "minute"/,
      );
      expect(() => parseScheduleExpression('rate(2 hour)')).toThrow(/plural unit "hours"/);
    });

    it.each(['rate(0 minutes)', 'rate(-5 minutes)', 'rate(1.5 hours)', 'rate(five minutes)', 'rate(+5 minutes)'])(
      'rejects %s because the value is not a positive whole number',
      (expression) => {
        expect(() => parseScheduleExpression(expression)).toThrow(/rate value ".*" must be a positive whole number/);
      },
    );

    it.each(['rate(30 seconds)', 'rate(2 weeks)', 'rate(5 Minutes)'])('rejects the unknown unit in %s', (expression) => {
      expect(() => parseScheduleExpression(expression)).toThrow(
        /rate unit ".*" is not one of minute, minutes, hour, hours, day, days/,
      );
    });

    it.each(['rate(5)', 'rate()', 'rate(5 minutes now)'])('rejects %s, which is not a value and a unit', (expression) => {
      expect(() => parseScheduleExpression(expression)).toThrow(/exactly a value and a unit/);
    });
  });

  describe('cron expressions', () => {
    it('parses every field of a daily schedule', () => {
      expect(parseScheduleExpression('cron(0 12 * * ? *)')).toEqual({
        kind: 'cron',
        source: 'cron(0 12 * * ? *)',
        minutes: [0],
        hours: [12],
        days: { kind: 'days-of-month', days: range(1, 31) },
        months: range(1, 12),
        years: range(1970, 2199),
      });
    });

    it('reads comma lists into sorted values without duplicates', () => {
      expect(parseCron('cron(45,0,15,30,15 * * * ? *)').minutes).toEqual([0, 15, 30, 45]);
    });

    it('reads dash ranges', () => {
      expect(parseCron('cron(0 9-17 * * ? *)').hours).toEqual(range(9, 17));
      expect(parseCron('cron(0 0 ? * * 2030-2032)').years).toEqual([2030, 2031, 2032]);
    });

    it('reads increments from a start value, from * and within a range', () => {
      expect(parseCron('cron(0/15 * * * ? *)').minutes).toEqual([0, 15, 30, 45]);
      expect(parseCron('cron(1/10 * * * ? *)').minutes).toEqual([1, 11, 21, 31, 41, 51]);
      expect(parseCron('cron(*/20 * * * ? *)').minutes).toEqual([0, 20, 40]);
      expect(parseCron('cron(5-50/10 * * * ? *)').minutes).toEqual([5, 15, 25, 35, 45]);
      expect(parseCron('cron(0 0 1/10 * ? *)').days).toEqual({ kind: 'days-of-month', days: [1, 11, 21, 31] });
      expect(parseCron('cron(0 0 1 */3 ? *)').months).toEqual([1, 4, 7, 10]);
    });

    it('reads month and day names case-insensitively, in lists and ranges', () => {
      expect(parseCron('cron(0 0 1 jan,Jul,DEC ? *)').months).toEqual([1, 7, 12]);
      expect(parseCron('cron(0 0 1 FEB-apr ? *)').months).toEqual([2, 3, 4]);
      expect(parseCron('cron(0 9 ? * mon-FRI *)').days).toEqual({ kind: 'days-of-week', days: [2, 3, 4, 5, 6] });
      expect(parseCron('cron(0 9 ? * SUN,sat *)').days).toEqual({ kind: 'days-of-week', days: [1, 7] });
    });

    it('numbers days of the week from 1 = SUN to 7 = SAT', () => {
      expect(parseCron('cron(0 9 ? * 1,7 *)').days).toEqual({ kind: 'days-of-week', days: [1, 7] });
      expect(parseCron('cron(0 9 ? * * *)').days).toEqual({ kind: 'days-of-week', days: range(1, 7) });
    });

    it('reads L, LW and W in the day-of-month field', () => {
      expect(parseCron('cron(0 0 L * ? *)').days).toEqual({ kind: 'last-day-of-month' });
      expect(parseCron('cron(0 0 lw * ? *)').days).toEqual({ kind: 'last-weekday-of-month' });
      expect(parseCron('cron(0 0 15W * ? *)').days).toEqual({ kind: 'nearest-weekday', day: 15 });
    });

    it('reads L, nL and # in the day-of-week field', () => {
      expect(parseCron('cron(0 0 ? * L *)').days).toEqual({ kind: 'days-of-week', days: [7] });
      expect(parseCron('cron(0 0 ? * 5L *)').days).toEqual({ kind: 'last-day-of-week-in-month', dayOfWeek: 5 });
      expect(parseCron('cron(0 0 ? * FRIL *)').days).toEqual({ kind: 'last-day-of-week-in-month', dayOfWeek: 6 });
      expect(parseCron('cron(0 0 ? * 3#2 *)').days).toEqual({ kind: 'nth-day-of-week-in-month', dayOfWeek: 3, nth: 2 });
      expect(parseCron('cron(0 0 ? * mon#1 *)').days).toEqual({ kind: 'nth-day-of-week-in-month', dayOfWeek: 2, nth: 1 });
    });

    it('rejects an expression where both day-of-month and day-of-week are ?', () => {
      expect(() => parseScheduleExpression('cron(0 12 ? * ? *)')).toThrow(
        /day-of-month and day-of-week are both "\?"; exactly one of them must be "\?"/,
      );
    });

    it('rejects an expression where neither day-of-month nor day-of-week is ?, even with *', () => {
      expect(() => parseScheduleExpression('cron(0 12 * * * *)')).toThrow(
        /day-of-month "\*" and day-of-week "\*" are both specified; exactly one of them must be "\?"/,
      );
      expect(() => parseScheduleExpression('cron(0 12 1 * MON *)')).toThrow(
        /day-of-month "1" and day-of-week "MON" are both specified/,
      );
    });

    it.each([
      ['cron(61 * * * ? *)', /minutes field "61": 61 is out of range 0-59/],
      ['cron(0 24 * * ? *)', /hours field "24": 24 is out of range 0-23/],
      ['cron(0 0 0 * ? *)', /day-of-month field "0": 0 is out of range 1-31/],
      ['cron(0 0 32 * ? *)', /day-of-month field "32": 32 is out of range 1-31/],
      ['cron(0 0 1 13 ? *)', /month field "13": 13 is out of range 1-12 or JAN-DEC/],
      ['cron(0 0 ? * 0 *)', /day-of-week field "0": 0 is out of range 1-7 or SUN-SAT \(1 = SUN, 7 = SAT\)/],
      ['cron(0 0 ? * 8 *)', /day-of-week field "8": 8 is out of range 1-7/],
      ['cron(0 0 1 1 ? 1969)', /year field "1969": 1969 is out of range 1970-2199/],
      ['cron(0 0 1 1 ? 2200)', /year field "2200": 2200 is out of range 1970-2199/],
      ['cron(0,15,60 * * * ? *)', /minutes field "0,15,60": 60 is out of range 0-59/],
      ['cron(0 0 1 1 ? 2020-2300)', /year field "2020-2300": 2300 is out of range 1970-2199/],
    ])('rejects the out-of-range field in %s', (expression, message) => {
      expect(() => parseScheduleExpression(expression)).toThrow(message);
    });

    it.each([
      ['cron(0 0 1 JANUARY ? *)', /month field "JANUARY": "JANUARY" is not a valid value \(allowed: 1-12 or JAN-DEC\)/],
      ['cron(0 0 1 MON ? *)', /month field "MON": "MON" is not a valid value/],
      ['cron(0 0 ? * JAN *)', /day-of-week field "JAN": "JAN" is not a valid value \(allowed: 1-7 or SUN-SAT/],
      ['cron(x 0 * * ? *)', /minutes field "x": "x" is not a valid value \(allowed: 0-59\)/],
      ['cron(5L 0 * * ? *)', /minutes field "5L": "5L" is not a valid value/],
    ])('rejects the unknown value or name in %s', (expression, message) => {
      expect(() => parseScheduleExpression(expression)).toThrow(message);
    });

    it('rejects reversed ranges and suggests a wrapping list instead', () => {
      expect(() => parseScheduleExpression('cron(10-5 * * * ? *)')).toThrow(
        /minutes field "10-5": range "10-5" is reversed; ranges must run from low to high .*"10-59,0-5"/,
      );
      expect(() => parseScheduleExpression('cron(0 0 ? * FRI-MON *)')).toThrow(/range "FRI-MON" is reversed/);
    });

    it.each([
      ['cron(*/0 * * * ? *)', /minutes field "\*\/0": the increment in "\*\/0" must be a positive whole number/],
      ['cron(0/x * * * ? *)', /the increment in "0\/x" must be a positive whole number/],
      ['cron(0/5/2 * * * ? *)', /"0\/5\/2" has more than one "\/"/],
      ['cron(1,,2 * * * ? *)', /minutes field "1,,2": a list has an empty item/],
      ['cron(-5 * * * ? *)', /minutes field "-5": "-5" is not a valid range; write low-high/],
      ['cron(1-2-3 * * * ? *)', /"1-2-3" is not a valid range/],
    ])('rejects the malformed list, range or increment in %s', (expression, message) => {
      expect(() => parseScheduleExpression(expression)).toThrow(message);
    });

    it('allows ? only in the day-of-month and day-of-week fields, and only as the whole field', () => {
      expect(() => parseScheduleExpression('cron(? 0 * * ? *)')).toThrow(
        /minutes field "\?": "\?" is allowed only in the day-of-month and day-of-week fields/,
      );
      expect(() => parseScheduleExpression('cron(0 0 1 ? ? *)')).toThrow(/month field "\?": "\?" is allowed only/);
      expect(() => parseScheduleExpression('cron(0 0 ?,1 * ? *)')).toThrow(
        /"\?" must be the whole field, not part of a list/,
      );
    });

    it('rejects increments in the day-of-week field, which EventBridge does not list for it', () => {
      expect(() => parseScheduleExpression('cron(0 0 ? * 1/2 *)')).toThrow(
        /day-of-week field "1\/2": "\/" is not allowed here \(allowed wildcards: , - \* \? L #\)/,
      );
    });

    it('rejects # outside the day-of-week field', () => {
      expect(() => parseScheduleExpression('cron(0 0 1#2 * ? *)')).toThrow(
        /day-of-month field "1#2": "#" is not allowed here \(allowed wildcards: , - \* \? \/ L W\)/,
      );
    });

    it.each([
      ['cron(0 0 L,15 * ? *)', /day-of-month field "L,15": "L" and "W" must stand alone/],
      ['cron(0 0 1-15W * ? *)', /day-of-month field "1-15W": "L" and "W" must stand alone/],
      ['cron(0 0 32W * ? *)', /day-of-month field "32W": 32 is out of range 1-31/],
      ['cron(0 0 ? * 8L *)', /day-of-week field "8L": 8 is out of range 1-7/],
      ['cron(0 0 ? * 1,5L *)', /day-of-week field "1,5L": "L" and "#" must stand alone/],
      ['cron(0 0 ? * 3#6 *)', /day-of-week field "3#6": "#6" must be #1 to #5/],
      ['cron(0 0 ? * 3#0 *)', /"#0" must be #1 to #5/],
      ['cron(0 0 ? * 8#1 *)', /day-of-week field "8#1": 8 is out of range 1-7/],
      ['cron(0 0 ? * 1#1,2#2 *)', /day-of-week field "1#1,2#2": "L" and "#" must stand alone/],
      ['cron(0 0 ? * 3#x *)', /day-of-week field "3#x": "L" and "#" must stand alone .*day#n such as "3#2" \(n = 1-5\)/],
    ])('rejects the misused L, W or # in %s', (expression, message) => {
      expect(() => parseScheduleExpression(expression)).toThrow(message);
    });

    it.each([
      ['cron(0 12 * * ?)', /exactly 6 space-separated fields .*, got 5/],
      ['cron(0 12 * * ? * *)', /exactly 6 space-separated fields .*, got 7/],
      ['cron()', /exactly 6 space-separated fields .*, got 0/],
    ])('rejects %s, which has the wrong number of fields', (expression, message) => {
      expect(() => parseScheduleExpression(expression)).toThrow(message);
    });
  });

  describe('other forms', () => {
    it.each(['', 'every 5 minutes', '0 12 * * ? *', 'cron(0 12 * * ? *', 'rate 5 minutes', ' rate(5 minutes)'])(
      'rejects %j and names both accepted forms',
      (expression) => {
        expect(() => parseScheduleExpression(expression)).toThrow(/expected rate\(value unit\).*or cron\(minutes hours/);
      },
    );

    it('rejects at() one-time expressions, which only EventBridge Scheduler accepts', () => {
      expect(() => parseScheduleExpression('at(2030-01-01T00:00:00)')).toThrow(
        /one-time at\(\.\.\.\) expressions belong to EventBridge Scheduler/,
      );
    });

    it('rejects an upper-case keyword', () => {
      expect(() => parseScheduleExpression('RATE(5 minutes)')).toThrow(/"rate" and "cron" must be written in lower case/);
    });

    it('throws an InvalidScheduleExpressionError that carries the expression and names it in the message', () => {
      let thrown: unknown;
      try {
        parseScheduleExpression('cron(61 * * * ? *)');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidScheduleExpressionError);
      expect(thrown).toBeInstanceOf(Error);
      const error = thrown as InvalidScheduleExpressionError;
      expect(error.name).toBe('InvalidScheduleExpressionError');
      expect(error.expression).toBe('cron(61 * * * ? *)');
      expect(error.message).toBe(
        'Invalid schedule expression "cron(61 * * * ? *)": minutes field "61": 61 is out of range 0-59',
      );
    });
  });
});

describe('nextFireTime', () => {
  describe('for rate expressions', () => {
    const anchor = '2024-03-10T08:00:00.000Z';

    it('fires one interval after the anchor first', () => {
      expect(next('rate(5 minutes)', anchor, anchor)).toBe('2024-03-10T08:05:00.000Z');
    });

    it('counts intervals from the anchor, not from whole minutes', () => {
      const oddAnchor = '2024-03-10T08:00:17.250Z';
      expect(next('rate(1 hour)', '2024-03-10T10:30:00.000Z', oddAnchor)).toBe('2024-03-10T11:00:17.250Z');
    });

    it('returns a time strictly after `after` when `after` is exactly a fire time', () => {
      expect(next('rate(5 minutes)', '2024-03-10T08:10:00.000Z', anchor)).toBe('2024-03-10T08:15:00.000Z');
    });

    it('returns the next fire time when `after` falls between fire times', () => {
      expect(next('rate(5 minutes)', '2024-03-10T08:12:34.000Z', anchor)).toBe('2024-03-10T08:15:00.000Z');
    });

    it('returns the first fire time when `after` is before the anchor', () => {
      expect(next('rate(1 day)', '2024-01-01T00:00:00.000Z', anchor)).toBe('2024-03-11T08:00:00.000Z');
    });

    it('jumps straight to a fire time many years after the anchor', () => {
      expect(next('rate(7 days)', '2034-03-10T08:00:00.000Z', anchor)).toBe('2034-03-12T08:00:00.000Z');
    });
  });

  describe('for cron expressions', () => {
    it('fires at the next matching minute later the same day', () => {
      expect(next('cron(0 12 * * ? *)', '2024-03-10T11:59:30.000Z')).toBe('2024-03-10T12:00:00.000Z');
    });

    it('returns a time strictly after `after` when `after` is exactly a fire time', () => {
      expect(next('cron(0 12 * * ? *)', '2024-03-10T12:00:00.000Z')).toBe('2024-03-11T12:00:00.000Z');
      expect(next('cron(* * * * ? *)', '2024-03-10T12:00:00.000Z')).toBe('2024-03-10T12:01:00.000Z');
    });

    it('fires on whole minutes even when `after` has seconds and milliseconds', () => {
      expect(next('cron(* * * * ? *)', '2024-03-10T12:00:59.999Z')).toBe('2024-03-10T12:01:00.000Z');
      expect(next('cron(0 12 * * ? *)', '2024-03-10T12:00:00.001Z')).toBe('2024-03-11T12:00:00.000Z');
    });

    it('follows minute lists and increments across the hour', () => {
      expect(next('cron(0/15 * * * ? *)', '2024-03-10T10:07:00.000Z')).toBe('2024-03-10T10:15:00.000Z');
      expect(next('cron(0/15 * * * ? *)', '2024-03-10T10:45:00.000Z')).toBe('2024-03-10T11:00:00.000Z');
      expect(next('cron(5-50/10 9-17 * * ? *)', '2024-03-10T17:45:00.000Z')).toBe('2024-03-11T09:05:00.000Z');
    });

    it('rolls over into the next month and the next year', () => {
      expect(next('cron(30 6 1 * ? *)', '2024-01-31T23:00:00.000Z')).toBe('2024-02-01T06:30:00.000Z');
      expect(next('cron(0 0 1 1 ? *)', '2024-12-31T23:59:00.000Z')).toBe('2025-01-01T00:00:00.000Z');
    });

    it('fires on weekdays only, skipping the weekend', () => {
      // 2024-03-15 is a Friday.
      expect(next('cron(0 9 ? * MON-FRI *)', '2024-03-15T10:00:00.000Z')).toBe('2024-03-18T09:00:00.000Z');
    });

    it('fires only in the named months', () => {
      expect(next('cron(0 0 1 JAN,JUL ? *)', '2024-02-10T00:00:00.000Z')).toBe('2024-07-01T00:00:00.000Z');
    });

    it('skips months too short for the day of the month', () => {
      expect(next('cron(0 0 31 * ? *)', '2024-03-31T00:00:00.000Z')).toBe('2024-05-31T00:00:00.000Z');
    });

    it('fires on February 29 only in leap years, quickly', () => {
      const started = performance.now();
      expect(next('cron(0 0 29 2 ? *)', '2024-03-01T00:00:00.000Z')).toBe('2028-02-29T00:00:00.000Z');
      expect(next('cron(0 0 29 2 ? *)', '2096-03-01T00:00:00.000Z')).toBe('2104-02-29T00:00:00.000Z'); // 2100 is not a leap year
      expect(performance.now() - started).toBeLessThan(50);
    });

    it('reaches a year far in the future quickly', () => {
      const started = performance.now();
      expect(next('cron(0 0 1 1 ? 2199)', '2024-03-01T00:00:00.000Z')).toBe('2199-01-01T00:00:00.000Z');
      // 2198-01-01 is a Monday.
      expect(next('cron(59 23 ? * 7 2198)', '2024-03-01T00:00:00.000Z')).toBe('2198-01-06T23:59:00.000Z');
      expect(performance.now() - started).toBeLessThan(50);
    });

    it('finds no fire time, quickly, when no day ever matches', () => {
      const started = performance.now();
      expect(next('cron(0 0 30 2 ? *)', '2024-03-01T00:00:00.000Z')).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(50);
    });

    it('fires only within the year range', () => {
      expect(next('cron(0 0 1 1 ? 2030-2032)', '2024-03-01T00:00:00.000Z')).toBe('2030-01-01T00:00:00.000Z');
      expect(next('cron(0 0 1 1 ? 2030-2032)', '2032-01-01T00:00:00.000Z')).toBeUndefined();
    });

    it('returns undefined when the year field lies in the past', () => {
      expect(next('cron(0 0 1 1 ? 2000)', '2024-03-01T00:00:00.000Z')).toBeUndefined();
    });

    it('returns undefined after the last minute of 2199', () => {
      expect(next('cron(* * * * ? *)', '2199-12-31T23:59:00.000Z')).toBeUndefined();
    });

    it('starts from the first listed year when `after` is before 1970', () => {
      expect(next('cron(0 0 1 1 ? *)', '1960-06-01T00:00:00.000Z')).toBe('1970-01-01T00:00:00.000Z');
    });

    it('ignores the anchor', () => {
      expect(nextFireTime(parseScheduleExpression('cron(0 12 * * ? *)'), new Date('2024-03-10T00:00:00Z'), EPOCH)).toEqual(
        new Date('2024-03-10T12:00:00Z'),
      );
    });

    describe('with L, W and #', () => {
      it('fires on the last day of the month with L in day-of-month', () => {
        expect(next('cron(0 0 L * ? *)', '2024-02-10T00:00:00.000Z')).toBe('2024-02-29T00:00:00.000Z');
        expect(next('cron(0 0 L * ? *)', '2023-02-10T00:00:00.000Z')).toBe('2023-02-28T00:00:00.000Z');
        expect(next('cron(0 0 L * ? *)', '2024-04-30T00:00:00.000Z')).toBe('2024-05-31T00:00:00.000Z');
      });

      it('fires on the last weekday of the month with LW', () => {
        // 2025-05-31 is a Saturday, 2025-08-31 a Sunday, 2024-04-30 a Tuesday.
        expect(next('cron(0 0 LW * ? *)', '2025-05-01T00:00:00.000Z')).toBe('2025-05-30T00:00:00.000Z');
        expect(next('cron(0 0 LW * ? *)', '2025-08-01T00:00:00.000Z')).toBe('2025-08-29T00:00:00.000Z');
        expect(next('cron(0 0 LW * ? *)', '2024-04-01T00:00:00.000Z')).toBe('2024-04-30T00:00:00.000Z');
      });

      it('moves a Saturday to the Friday before and a Sunday to the Monday after with W', () => {
        // 2025-03-15 is a Saturday; 2026-03-15 is a Sunday; 2025-08-15 is a Friday.
        expect(next('cron(0 0 15W * ? *)', '2025-03-01T00:00:00.000Z')).toBe('2025-03-14T00:00:00.000Z');
        expect(next('cron(0 0 15W * ? *)', '2026-03-01T00:00:00.000Z')).toBe('2026-03-16T00:00:00.000Z');
        expect(next('cron(0 0 15W * ? *)', '2025-08-01T00:00:00.000Z')).toBe('2025-08-15T00:00:00.000Z');
      });

      it('never lets W leave the month', () => {
        // 2025-11-01 is a Saturday: the nearest weekday inside November is Monday the 3rd.
        expect(next('cron(0 0 1W * ? *)', '2025-10-31T12:00:00.000Z')).toBe('2025-11-03T00:00:00.000Z');
        // 2025-08-31 is a Sunday: the nearest weekday inside August is Friday the 29th.
        expect(next('cron(0 0 31W * ? *)', '2025-08-01T00:00:00.000Z')).toBe('2025-08-29T00:00:00.000Z');
      });

      it('skips months that do not have the day given to W', () => {
        // 2025-04 has no 31st; 2025-05-31 is a Saturday, so May fires on Friday the 30th.
        expect(next('cron(0 0 31W * ? *)', '2025-04-01T00:00:00.000Z')).toBe('2025-05-30T00:00:00.000Z');
      });

      it('fires on Saturdays with L alone in day-of-week', () => {
        // 2024-03-15 is a Friday.
        expect(next('cron(0 0 ? * L *)', '2024-03-15T00:00:00.000Z')).toBe('2024-03-16T00:00:00.000Z');
      });

      it('fires on the last given weekday of the month with nL in day-of-week', () => {
        // The last Thursday of March 2024 is the 28th.
        expect(next('cron(0 0 ? * 5L *)', '2024-03-01T00:00:00.000Z')).toBe('2024-03-28T00:00:00.000Z');
        expect(next('cron(0 0 ? * 5L *)', '2024-03-28T00:00:00.000Z')).toBe('2024-04-25T00:00:00.000Z');
      });

      it('fires on the nth given weekday of the month with #', () => {
        // 2024-03-01 is a Friday: the second Tuesday is the 12th, the first Monday the 4th.
        expect(next('cron(0 0 ? * 3#2 *)', '2024-03-01T00:00:00.000Z')).toBe('2024-03-12T00:00:00.000Z');
        expect(next('cron(0 0 ? * MON#1 *)', '2024-03-01T00:00:00.000Z')).toBe('2024-03-04T00:00:00.000Z');
      });

      it('skips months without a fifth occurrence of the weekday', () => {
        // March 2024 has a fifth Friday (the 29th); April 2024 does not; May 2024 does (the 31st).
        expect(next('cron(0 0 ? * 6#5 *)', '2024-03-01T00:00:00.000Z')).toBe('2024-03-29T00:00:00.000Z');
        expect(next('cron(0 0 ? * 6#5 *)', '2024-03-29T00:00:00.000Z')).toBe('2024-05-31T00:00:00.000Z');
      });
    });
  });

  it('rejects an invalid Date', () => {
    const expr = parseScheduleExpression('cron(0 12 * * ? *)');
    expect(() => nextFireTime(expr, new Date('nonsense'), EPOCH)).toThrow(/after is an invalid Date/);
    expect(() => nextFireTime(parseScheduleExpression('rate(1 hour)'), EPOCH, new Date('nonsense'))).toThrow(
      /anchor is an invalid Date/,
    );
  });
});
