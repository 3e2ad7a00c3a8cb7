import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Each test file runs in its own process: the local runtime sets process.env.
    pool: 'forks',
    // Lambda runs Node 22; this machine's Node 20 is supported by the pinned SDK.
    // Job logs (one JSON line per outcome) would bury the test report.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', FERRY_LOG_LEVEL: 'warn' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: { provider: 'v8', include: ['lib/**', 'functions/**', 'cdk/**'] },
  },
});
