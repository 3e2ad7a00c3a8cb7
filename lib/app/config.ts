/**
 * A project's `ferry.config.ts`: the app the `ferry` CLI runs (`ferry dev`),
 * synthesizes and deploys (`ferry synth`, `ferry deploy`), with what local
 * development adds to it. The declaration itself stays plain data
 * (`defineApp`); this names it for the tools.
 */
import type { App } from './define-app.js';
import type { PrepareContext } from '../local/runtime.js';

export interface DevOptions {
  /**
   * Runs once the local tables and queues exist, before any function runs
   * and before the API listens: seed data no request may see half-written.
   * What it returns is published in the runtime file (`.ferry/runtime.json`)
   * beside the URL and the environment, for tools that run beside `ferry dev`.
   * @default nothing
   */
  readonly prepare?: (context: PrepareContext) => Promise<Readonly<Record<string, unknown>> | undefined | void>;
  /**
   * Lines printed under the API's address once the app runs ("try this"),
   * given the local base URL.
   * @default none
   */
  readonly hints?: (url: string) => readonly string[];
}

export interface FerryConfig {
  /** The app's declaration, from `defineApp`. */
  readonly app: App;
  /**
   * The CloudFormation stack `ferry synth` and `ferry deploy` build
   * (`cdk deploy -c stackName=...` overrides it).
   * @default the app's name in PascalCase (`ferry` → `Ferry`)
   */
  readonly stackName?: string;
  readonly dev?: DevOptions;
}

/** Types a project's configuration; `ferry.config.ts` default-exports its result. */
export function defineConfig(config: FerryConfig): FerryConfig {
  if (typeof config !== 'object' || config === null || typeof config.app !== 'object' || !Array.isArray(config.app.functions)) {
    throw new TypeError('defineConfig: "app" must be the result of defineApp(...)');
  }
  return config;
}

/** `my-app` → `MyApp`: the default stack name. */
export function defaultStackName(config: FerryConfig): string {
  return config.stackName ?? config.app.name.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}
