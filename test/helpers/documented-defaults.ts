/**
 * Reads the `@default` tags of a source file's interfaces, so tests can check
 * that documented defaults match the code (a default written twice drifts).
 */
import { readFileSync } from 'node:fs';

const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface DocumentedDefaults {
  /** The text after `@default` in the doc comment of `property` in `interfaceName`. */
  readonly text: (interfaceName: string, property: string) => string;
  /** The leading number of that text. */
  readonly number: (interfaceName: string, property: string) => number;
  /** A documented length of time, e.g. `4 days (the SQS default)`, in milliseconds. */
  readonly milliseconds: (interfaceName: string, property: string) => number;
}

/** `path` is relative to the repository root, e.g. `lib/jobs/task.ts`. */
export function documentedDefaults(path: string): DocumentedDefaults {
  const source = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  const text = (interfaceName: string, property: string): string => {
    const body = new RegExp(`export interface ${interfaceName}(?:<[^{]*>)?(?: extends [^{]*)? \\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1];
    if (body === undefined) throw new Error(`${path} declares no interface ${interfaceName}`);
    const doc = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*readonly ${property}\\??:`).exec(body)?.[1];
    if (doc === undefined) throw new Error(`${interfaceName}.${property} has no doc comment`);
    const tag = /@default\s+(.+)/.exec(doc)?.[1];
    if (tag === undefined) throw new Error(`${interfaceName}.${property} has no @default tag`);
    return tag.replace(/\s*\*?\s*$/, '').trim();
  };
  return {
    text,
    number: (interfaceName, property) => {
      const t = text(interfaceName, property);
      const match = /^\d+/.exec(t);
      if (match === null) throw new Error(`${interfaceName}.${property}: @default "${t}" does not start with a number`);
      return Number(match[0]);
    },
    milliseconds: (interfaceName, property) => {
      const t = text(interfaceName, property);
      const match = /^(\d+) (second|minute|hour|day)s?\b/.exec(t);
      if (match === null) throw new Error(`${interfaceName}.${property}: @default "${t}" is not a length of time`);
      return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    },
  };
}
