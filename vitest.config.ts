import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The app (app/, functions/) imports Ferry by its package name, as any project does; here it resolves to the sources (tsconfig.json "paths").
  resolve: {
    alias: [
      { find: /^ferry$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
      { find: /^ferry\/cdk$/, replacement: fileURLToPath(new URL('./cdk/index.ts', import.meta.url)) },
      { find: /^ferry\/local$/, replacement: fileURLToPath(new URL('./lib/local/index.ts', import.meta.url)) },
      { find: /^ferry\/testing$/, replacement: fileURLToPath(new URL('./lib/testing/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Each test file runs in its own process: the local runtime sets process.env.
    pool: 'forks',
    // Lambda runs Node 22; this machine's Node 20 is supported by the pinned SDK.
    // Job logs (one JSON line per outcome) would bury the test report, and so would the EMF document
    // per outcome of the functions run in the test's own process (code: 'sources'), which no test reads:
    // sandboxed functions get their own environment and write metrics (test/unit/metrics.test.ts turns them on).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', FERRY_LOG_LEVEL: 'warn', POWERTOOLS_METRICS_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: { provider: 'v8', include: ['lib/**', 'app/**', 'functions/**', 'notes/**', 'cdk/**'] },
  },
});
