/**
 * Amazon EventBridge schedule expressions (`rate(...)` and `cron(...)`) for
 * scheduled rules, parsed and evaluated the way EventBridge does, so that the
 * local runtime fires a rule when AWS would and refuses what AWS refuses.
 *
 * Reference: AWS EventBridge user guide, "Schedule expressions for rules".
 * Everything is UTC: EventBridge scheduled rules have no time zone.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/**
 * Which days of a month a cron expression fires on. Exactly one of the
 * day-of-month and day-of-week fields is `?`; the other becomes one of these.
 * Days of the week are numbered as EventBridge numbers them: 1 = SUN … 7 = SAT.
 */
export type CronDaySelector =
  /** Day-of-month list, ranges, increments or `*`; days past the month's end never match. */
  | { readonly kind: 'days-of-month'; readonly days: readonly number[] }
  /** Day-of-month `L`. */
  | { readonly kind: 'last-day-of-month' }
  /** Day-of-month `LW`: the last Monday–Friday of the month. */
  | { readonly kind: 'last-weekday-of-month' }
  /** Day-of-month `15W`: the Monday–Friday nearest the given day, never leaving the month. */
  | { readonly kind: 'nearest-weekday'; readonly day: number }
  /** Day-of-week list, ranges or `*` (and `L` alone, which means 7 = SAT). */
  | { readonly kind: 'days-of-week'; readonly days: readonly number[] }
  /** Day-of-week `5L`: the last Thursday (here dayOfWeek 5) of the month. */
  | { readonly kind: 'last-day-of-week-in-month'; readonly dayOfWeek: number }
  /** Day-of-week `3#2`: the second (nth) Tuesday (dayOfWeek 3) of the month. */
  | { readonly kind: 'nth-day-of-week-in-month'; readonly dayOfWeek: number; readonly nth: number };

export interface RateSchedule {
  readonly kind: 'rate';
  readonly intervalMs: number;
  readonly source: string;
}

/** A parsed cron expression. Every list is sorted ascending and free of duplicates. */
export interface CronSchedule {
  readonly kind: 'cron';
  readonly source: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: CronDaySelector;
  /** 1 = January … 12 = December. */
  readonly months: readonly number[];
  readonly years: readonly number[];
}

export type ScheduleExpression = RateSchedule | CronSchedule;

export class InvalidScheduleExpressionError extends Error {
  override readonly name = 'InvalidScheduleExpressionError';
  readonly expression: string;

  constructor(expression: string, problem: string) {
    super(`Invalid schedule expression ${JSON.stringify(expression)}: ${problem}`);
    this.expression = expression;
  }
}

// ---------------------------------------------------------------------------
// Top level
// ---------------------------------------------------------------------------

const EXPECTED_FORMS =
  'expected rate(value unit), e.g. rate(5 minutes), or cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 12 * * ? *)';

export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^(rate|cron)\((.*)\)$/s.exec(expression);
  if (match === null) {
    throw new InvalidScheduleExpressionError(expression, describeUnknownForm(expression));
  }
  const [, keyword, body = ''] = match;
  return keyword === 'rate' ? parseRate(expression, body) : parseCron(expression, body);
}

function describeUnknownForm(expression: string): string {
  if (/^at\(/.test(expression)) {
    return `one-time at(...) expressions belong to EventBridge Scheduler and are not valid for scheduled rules; ${EXPECTED_FORMS}`;
  }
  if (/^(rate|cron)\(/i.test(expression) && !/^(rate|cron)\(/.test(expression)) {
    return `"rate" and "cron" must be written in lower case; ${EXPECTED_FORMS}`;
  }
  return EXPECTED_FORMS;
}

/**
 * The first fire time strictly after `after`.
 *
 * - rate: EventBridge counts rate rules from the moment the rule was created
 *   (`anchor`); the rule fires at anchor + k × interval for k = 1, 2, …
 *   (never at the instant of creation itself).
 * - cron: the first whole UTC minute matching every field; `anchor` is not
 *   used. Undefined when no such minute exists before the end of year 2199
 *   (for example when the year field lies in the past).
 */
export function nextFireTime(expr: ScheduleExpression, after: Date, anchor: Date): Date | undefined {
  assertValidDate(after, 'after');
  if (expr.kind === 'rate') {
    assertValidDate(anchor, 'anchor');
    return nextRateFireTime(expr, after, anchor);
  }
  return nextCronFireTime(expr, after);
}

function assertValidDate(date: Date, label: string): void {
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`nextFireTime(): ${label} is an invalid Date`);
  }
}

// ---------------------------------------------------------------------------
// rate(value unit)
// ---------------------------------------------------------------------------

const RATE_UNITS: Readonly<Record<string, { readonly ms: number; readonly singular: string; readonly plural: string }>> = {
  minute: { ms: MINUTE_MS, singular: 'minute', plural: 'minutes' },
  minutes: { ms: MINUTE_MS, singular: 'minute', plural: 'minutes' },
  hour: { ms: HOUR_MS, singular: 'hour', plural: 'hours' },
  hours: { ms: HOUR_MS, singular: 'hour', plural: 'hours' },
  day: { ms: DAY_MS, singular: 'day', plural: 'days' },
  days: { ms: DAY_MS, singular: 'day', plural: 'days' },
};

function parseRate(expression: string, body: string): RateSchedule {
  const fail = (problem: string): InvalidScheduleExpressionError =>
    new InvalidScheduleExpressionError(expression, problem);

  const parts = body.trim().split(/\s+/);
  const [valueText = '', unitText = ''] = parts;
  if (parts.length !== 2) {
    throw fail('rate expressions take exactly a value and a unit, e.g. rate(1 hour) or rate(5 minutes)');
  }
  if (!/^\d+$/.test(valueText) || Number(valueText) === 0) {
    throw fail(`rate value "${valueText}" must be a positive whole number`);
  }
  const value = Number(valueText);
  const unit = Object.hasOwn(RATE_UNITS, unitText) ? RATE_UNITS[unitText] : undefined;
  if (unit === undefined) {
    throw fail(`rate unit "${unitText}" is not one of minute, minutes, hour, hours, day, days`);
  }
  // EventBridge insists on agreement: 1 takes the singular unit, anything larger the plural.
  if (value === 1 && unitText !== unit.singular) {
    throw fail(`a rate value of 1 takes the singular unit "${unit.singular}", not "${unitText}"`);
  }
  if (value !== 1 && unitText !== unit.plural) {
    throw fail(`a rate value of ${value} takes the plural unit "${unit.plural}", not "${unitText}"`);
  }
  const intervalMs = value * unit.ms;
  if (!Number.isSafeInteger(intervalMs)) {
    throw fail(`rate value ${valueText} ${unitText} is too large`);
  }
  return { kind: 'rate', intervalMs, source: expression };
}

function nextRateFireTime(expr: RateSchedule, after: Date, anchor: Date): Date {
  const elapsed = after.getTime() - anchor.getTime();
  // floor(elapsed / interval) + 1 is the first k whose fire time is strictly after `after`.
  const k = Math.max(1, Math.floor(elapsed / expr.intervalMs) + 1);
  return new Date(anchor.getTime() + k * expr.intervalMs);
}

// ---------------------------------------------------------------------------
// cron(...) fields
// ---------------------------------------------------------------------------

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min + 1, …; matched case-insensitively. */
  readonly names?: readonly string[];
  /** Non-alphanumeric characters the field accepts. */
  readonly wildcards: string;
  /** Every wildcard the field accepts, letters included, as error messages list them. */
  readonly wildcardsShown: string;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, wildcards: ',-*/', wildcardsShown: ', - * /' };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, wildcards: ',-*/', wildcardsShown: ', - * /' };
const DAY_OF_MONTH: FieldSpec = {
  label: 'day-of-month',
  min: 1,
  max: 31,
  wildcards: ',-*?/',
  wildcardsShown: ', - * ? / L W',
};
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  wildcards: ',-*/',
  wildcardsShown: ', - * /',
};
// The AWS table lists no "/" for day-of-week, so increments are refused there.
const DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 1,
  max: 7,
  names: DAY_NAMES,
  wildcards: ',-*?#',
  wildcardsShown: ', - * ? L #',
};
const YEAR: FieldSpec = { label: 'year', min: 1970, max: 2199, wildcards: ',-*/', wildcardsShown: ', - * /' };

/** One cron field being parsed: enough to say precisely what is wrong with it. */
interface Field {
  readonly expression: string;
  readonly spec: FieldSpec;
  /** The field as written. */
  readonly text: string;
}

function fieldError(field: Field, problem: string): InvalidScheduleExpressionError {
  return new InvalidScheduleExpressionError(field.expression, `${field.spec.label} field "${field.text}": ${problem}`);
}

function allowedValues(spec: FieldSpec): string {
  const range = `${spec.min}-${spec.max}`;
  if (spec.names === undefined) return range;
  const names = `${spec.names[0]}-${spec.names[spec.names.length - 1]}`;
  return spec === DAY_OF_WEEK ? `${range} or ${names} (1 = SUN, 7 = SAT)` : `${range} or ${names}`;
}

function parseCron(expression: string, body: string): CronSchedule {
  const texts = body.trim().split(/\s+/);
  if (texts.length !== 6) {
    throw new InvalidScheduleExpressionError(
      expression,
      `cron expressions take exactly 6 space-separated fields (minutes hours day-of-month month day-of-week year), got ${body.trim() === '' ? 0 : texts.length}`,
    );
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = texts;
  const field = (spec: FieldSpec, text: string): Field => ({ expression, spec, text });
  return {
    kind: 'cron',
    source: expression,
    minutes: parseValueList(field(MINUTES, minutes)),
    hours: parseValueList(field(HOURS, hours)),
    days: parseDays(field(DAY_OF_MONTH, dayOfMonth), field(DAY_OF_WEEK, dayOfWeek)),
    months: parseValueList(field(MONTH, month)),
    years: parseValueList(field(YEAR, year)),
  };
}

/** Refuses any character the field does not allow, before the field is read further. */
function checkWildcards(field: Field): void {
  for (const ch of field.text) {
    if (/[A-Za-z0-9]/.test(ch) || field.spec.wildcards.includes(ch)) continue;
    if (ch === '?') {
      throw fieldError(field, '"?" is allowed only in the day-of-month and day-of-week fields');
    }
    throw fieldError(field, `"${ch}" is not allowed here (allowed wildcards: ${field.spec.wildcardsShown})`);
  }
}

/**
 * Reads a field made only of `,` lists, `-` ranges, `*` and `/` increments
 * into the sorted set of values it selects.
 */
function parseValueList(field: Field): number[] {
  checkWildcards(field);
  const values = new Set<number>();
  for (const item of field.text.split(',')) {
    if (item === '') {
      throw fieldError(field, 'a list has an empty item; separate values with single commas, e.g. 1,15');
    }
    for (const value of parseListItem(item, field)) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** One comma-separated item: `*`, `a`, `a-b`, or any of those followed by `/step`. */
function parseListItem(item: string, field: Field): number[] {
  const slashParts = item.split('/');
  if (slashParts.length > 2) {
    throw fieldError(field, `"${item}" has more than one "/"; write start/increment, e.g. 0/15`);
  }
  const [base = '', stepText] = slashParts;
  if (stepText === undefined) {
    const { from, to } = parseRange(base, field);
    return stepValues(from, to, 1);
  }
  if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
    throw fieldError(field, `the increment in "${item}" must be a positive whole number`);
  }
  // "a/n" starts at a and runs to the end of the field's range: 0/15 = 0,15,30,45.
  const { from, to } = base.includes('-') || base === '*'
    ? parseRange(base, field)
    : { from: parseValue(base, field), to: field.spec.max };
  return stepValues(from, to, Number(stepText));
}

function stepValues(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/** `*`, a single value or a `low-high` range. */
function parseRange(text: string, field: Field): { from: number; to: number } {
  if (text === '*') return { from: field.spec.min, to: field.spec.max };
  const ends = text.split('-');
  if (ends.length === 1) {
    const value = parseValue(text, field);
    return { from: value, to: value };
  }
  const [lowText = '', highText = ''] = ends;
  if (ends.length !== 2 || lowText === '' || highText === '') {
    throw fieldError(field, `"${text}" is not a valid range; write low-high, e.g. ${field.spec.min}-${field.spec.max}`);
  }
  const from = parseValue(lowText, field);
  const to = parseValue(highText, field);
  if (from > to) {
    // Whether AWS wraps reversed ranges (FRI-MON) is undocumented; refuse rather than guess.
    throw fieldError(
      field,
      `range "${text}" is reversed; ranges must run from low to high (to wrap around, list two ranges, e.g. "${from}-${field.spec.max},${field.spec.min}-${to}")`,
    );
  }
  return { from, to };
}

/** A number or (month and day-of-week) a three-letter name, within the field's range. */
function parseValue(token: string, field: Field): number {
  const { spec } = field;
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      throw fieldError(field, `${token} is out of range ${allowedValues(spec)}`);
    }
    return value;
  }
  const nameIndex = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (nameIndex >= 0) return spec.min + nameIndex;
  throw fieldError(field, `"${token}" is not a valid value (allowed: ${allowedValues(spec)})`);
}

// ---------------------------------------------------------------------------
// cron(...) day-of-month and day-of-week
// ---------------------------------------------------------------------------

/**
 * EventBridge requires exactly one of day-of-month and day-of-week to be `?`
 * (`*` counts as specified); the other one says which days fire.
 */
function parseDays(dayOfMonth: Field, dayOfWeek: Field): CronDaySelector {
  const domAny = dayOfMonth.text === '?';
  const dowAny = dayOfWeek.text === '?';
  if (domAny && dowAny) {
    throw new InvalidScheduleExpressionError(
      dayOfMonth.expression,
      'day-of-month and day-of-week are both "?"; exactly one of them must be "?" and the other must say which days, e.g. cron(0 12 * * ? *)',
    );
  }
  if (!domAny && !dowAny) {
    throw new InvalidScheduleExpressionError(
      dayOfMonth.expression,
      `day-of-month "${dayOfMonth.text}" and day-of-week "${dayOfWeek.text}" are both specified; exactly one of them must be "?", e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)`,
    );
  }
  return domAny ? parseDayOfWeek(dayOfWeek) : parseDayOfMonth(dayOfMonth);
}

function rejectQuestionMarkInList(field: Field): void {
  if (field.text.includes('?')) {
    throw fieldError(field, '"?" must be the whole field, not part of a list, range or increment');
  }
}

/** Day-of-month: `L`, `LW`, `nW`, or plain lists/ranges/increments of 1-31. */
function parseDayOfMonth(field: Field): CronDaySelector {
  checkWildcards(field);
  rejectQuestionMarkInList(field);
  const text = field.text.toUpperCase();
  if (text === 'L') return { kind: 'last-day-of-month' };
  if (text === 'LW') return { kind: 'last-weekday-of-month' };
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest !== null) {
    return { kind: 'nearest-weekday', day: parseValue(nearest[1] ?? '', field) };
  }
  if (text.includes('L') || text.includes('W')) {
    throw fieldError(field, '"L" and "W" must stand alone as "L", "LW" or a single day such as "15W", not in lists, ranges or increments');
  }
  return { kind: 'days-of-month', days: parseValueList(field) };
}

/** Day-of-week: `L` (= SAT), `nL`, `n#k`, or plain lists/ranges of 1-7 / SUN-SAT. */
function parseDayOfWeek(field: Field): CronDaySelector {
  checkWildcards(field);
  rejectQuestionMarkInList(field);
  const text = field.text.toUpperCase();
  if (text === 'L') return { kind: 'days-of-week', days: [7] };
  // A single day (number or three-letter name) then L: "5L" or "THUL". No day name ends in L.
  const last = /^([0-9]+|[A-Z]{3})L$/.exec(text);
  if (last !== null) {
    return { kind: 'last-day-of-week-in-month', dayOfWeek: parseValue(last[1] ?? '', field) };
  }
  const nth = /^([0-9]+|[A-Z]{3})#([0-9]+)$/.exec(text);
  if (nth !== null) {
    const [, dayText = '', nthText = ''] = nth;
    if (!/^[1-5]$/.test(nthText)) {
      throw fieldError(field, `"#${nthText}" must be #1 to #5 (which occurrence of the day in the month)`);
    }
    return { kind: 'nth-day-of-week-in-month', dayOfWeek: parseValue(dayText, field), nth: Number(nthText) };
  }
  if (text.includes('#') || text.includes('L')) {
    throw fieldError(
      field,
      '"L" and "#" must stand alone as "L", a single day followed by L such as "5L", or day#n such as "3#2" (n = 1-5), not in lists or ranges',
    );
  }
  return { kind: 'days-of-week', days: parseValueList(field) };
}

// ---------------------------------------------------------------------------
// cron(...) next fire time
// ---------------------------------------------------------------------------

interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
}

/**
 * Walks years, then months, then the days that match in each month, then
 * hours and minutes, so that the cost is bounded by the number of months up
 * to 2199 rather than the number of minutes. Each level is bounded below by
 * the start point only while every enclosing level is still at the start.
 */
function nextCronFireTime(cron: CronSchedule, after: Date): Date | undefined {
  // The first whole minute strictly after `after`.
  const start = new Date((Math.floor(after.getTime() / MINUTE_MS) + 1) * MINUTE_MS);
  const startYear = start.getUTCFullYear();
  const startMonth = start.getUTCMonth() + 1;
  const startDay = start.getUTCDate();
  const startTime: TimeOfDay = { hour: start.getUTCHours(), minute: start.getUTCMinutes() };

  for (const year of cron.years) {
    if (year < startYear) continue;
    for (const month of cron.months) {
      const atStartMonth = year === startYear && month === startMonth;
      if (year === startYear && month < startMonth) continue;
      for (const day of matchingDays(cron.days, year, month)) {
        if (atStartMonth && day < startDay) continue;
        const time = firstTimeInDay(cron, atStartMonth && day === startDay ? startTime : undefined);
        if (time !== undefined) {
          return new Date(Date.UTC(year, month - 1, day, time.hour, time.minute));
        }
      }
    }
  }
  return undefined;
}

/** The first matching hour and minute of a day, at or after `from` when given. */
function firstTimeInDay(cron: CronSchedule, from: TimeOfDay | undefined): TimeOfDay | undefined {
  for (const hour of cron.hours) {
    if (from !== undefined && hour < from.hour) continue;
    const minuteFloor = from !== undefined && hour === from.hour ? from.minute : 0;
    const minute = cron.minutes.find((m) => m >= minuteFloor);
    if (minute !== undefined) return { hour, minute };
  }
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = SUN … 7 = SAT, as EventBridge numbers days of the week. */
function dayOfWeek(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

const SUNDAY = 1;
const SATURDAY = 7;

/** The days of `month` that the selector picks, ascending. */
function matchingDays(selector: CronDaySelector, year: number, month: number): number[] {
  const lastDay = daysInMonth(year, month);
  switch (selector.kind) {
    case 'days-of-month':
      return selector.days.filter((d) => d <= lastDay);
    case 'last-day-of-month':
      return [lastDay];
    case 'last-weekday-of-month':
      return [nearestWeekday(year, month, lastDay)];
    case 'nearest-weekday':
      // Like Quartz: a day the month does not have (31W in April) never fires that month.
      return selector.day <= lastDay ? [nearestWeekday(year, month, selector.day)] : [];
    case 'days-of-week': {
      const days: number[] = [];
      for (let d = 1; d <= lastDay; d++) {
        if (selector.days.includes(dayOfWeek(year, month, d))) days.push(d);
      }
      return days;
    }
    case 'last-day-of-week-in-month': {
      const back = (dayOfWeek(year, month, lastDay) - selector.dayOfWeek + 7) % 7;
      return [lastDay - back];
    }
    case 'nth-day-of-week-in-month': {
      const first = 1 + ((selector.dayOfWeek - dayOfWeek(year, month, 1) + 7) % 7);
      const day = first + 7 * (selector.nth - 1);
      return day <= lastDay ? [day] : [];
    }
  }
}

/**
 * The Monday–Friday nearest `day`, without leaving the month: a Saturday
 * moves to the Friday before (or to Monday the 3rd when it is the 1st); a
 * Sunday moves to the Monday after (or to Friday when it is the month's last day).
 */
function nearestWeekday(year: number, month: number, day: number): number {
  const weekday = dayOfWeek(year, month, day);
  if (weekday === SATURDAY) return day === 1 ? 3 : day - 1;
  if (weekday === SUNDAY) return day === daysInMonth(year, month) ? day - 2 : day + 1;
  return day;
}
