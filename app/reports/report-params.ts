/**
 * Report parameters: declared with their type, default and bounds, parsed
 * from a query string with one message per bad parameter (naming the allowed
 * range), and canonicalized so that equal requests share one cached result.
 */

export type ParamSpec =
  | { readonly kind: 'int'; readonly default: number; readonly min: number; readonly max: number; readonly description: string }
  | { readonly kind: 'string'; readonly default: string; readonly maxLength: number; readonly description: string };

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** The parsed values of `Specs`. */
export type ParamValues<Specs extends ParamSpecs> = { readonly [K in keyof Specs]: Specs[K]['kind'] extends 'int' ? number : string };

export interface ParamProblem {
  readonly name: string;
  readonly message: string;
  /** The allowed values, in words (e.g. "an integer from 1 to 365"). */
  readonly allowed: string;
}

export type ParseResult<Specs extends ParamSpecs> =
  | { readonly ok: true; readonly params: ParamValues<Specs> }
  | { readonly ok: false; readonly problems: readonly ParamProblem[] };

export function allowedValues(spec: ParamSpec): string {
  return spec.kind === 'int' ? `an integer from ${spec.min} to ${spec.max}` : `text of at most ${spec.maxLength} characters`;
}

/** Parses query-string values against `specs`, applying defaults; lists every problem, unknown names included. */
export function parseParams<Specs extends ParamSpecs>(specs: Specs, query: Readonly<Record<string, string | undefined>>): ParseResult<Specs> {
  const problems: ParamProblem[] = [];
  const values: Record<string, number | string> = {};
  for (const name of Object.keys(query)) {
    if (!(name in specs)) {
      problems.push({ name, message: `unknown parameter "${name}"`, allowed: `one of: ${Object.keys(specs).join(', ') || 'none'}` });
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const raw = query[name];
    if (raw === undefined) {
      values[name] = spec.default;
      continue;
    }
    if (spec.kind === 'int') {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) {
        problems.push({ name, message: `"${name}" must be ${allowedValues(spec)} (got "${raw}")`, allowed: allowedValues(spec) });
      } else {
        values[name] = n;
      }
    } else if (raw.length > spec.maxLength) {
      problems.push({ name, message: `"${name}" must be ${allowedValues(spec)} (got ${raw.length} characters)`, allowed: allowedValues(spec) });
    } else {
      values[name] = raw;
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, params: values as ParamValues<Specs> };
}

/** `name?a=1&b=x` with parameters sorted by name and defaults filled in: one key per distinct request. */
export function canonicalKey(report: string, params: Readonly<Record<string, number | string>>): string {
  const query = Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(params[k]))}`)
    .join('&');
  return `report:${report}?${query}`;
}
