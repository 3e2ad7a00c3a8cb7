import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { extractEmf } from '../../lib/local/local-metrics.js';
import { METRICS_NAMESPACE, publishMetrics } from '../../lib/util/metrics.js';

/** The lines written to stdout while `fn` runs (Powertools Metrics writes there through its own Console). */
function stdoutOf(fn: () => void): string[] {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  });
  try {
    fn();
  } finally {
    write.mockRestore();
  }
  return lines;
}

// vitest.config.ts turns metrics off for functions run in the test process; these tests read them.
beforeAll(() => void vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false'));
afterAll(() => void vi.unstubAllEnvs());
afterEach(() => vi.restoreAllMocks());

describe('publishMetrics (Powertools Metrics)', () => {
  it('writes one EMF document with exactly the given dimensions (no service dimension) and the metric values as fields', () => {
    const before = Date.now();
    const lines = stdoutOf(() => publishMetrics({ Queue: 'io', Task: 'demo.ping' }, { JobsSucceeded: { value: 1, unit: 'Count' }, JobDurationMs: { value: 12.5, unit: 'Milliseconds' } }));
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0] ?? '') as Record<string, unknown> & { _aws: { Timestamp: number } };
    expect(doc).toEqual({
      _aws: {
        Timestamp: expect.any(Number) as number,
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [['Queue', 'Task']],
            Metrics: [
              { Name: 'JobsSucceeded', Unit: 'Count' },
              { Name: 'JobDurationMs', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Queue: 'io',
      Task: 'demo.ping',
      JobsSucceeded: 1,
      JobDurationMs: 12.5,
    });
    expect(doc._aws.Timestamp).toBeGreaterThanOrEqual(before);
  });

  it('rolls the values up under fewer dimensions in the same document (EMF dimension sets), which CloudWatch and the local runtime read as two metrics', () => {
    const warned: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => warned.push(String(chunk)) > 0);
    const lines = stdoutOf(() => publishMetrics({ Queue: 'app-io-queue', Task: 'demo.ping' }, { JobsFailed: { value: 1, unit: 'Count' } }, [['Queue']]));
    expect(lines).toHaveLength(1);
    // Powertools' key-collision warning for the repeated Queue is not written (one stray line per job otherwise).
    expect(warned).toEqual([]);
    const doc = JSON.parse(lines[0] ?? '') as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } };
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Queue', 'Task'], ['Queue']]);
    const points = extractEmf(lines[0] ?? '');
    expect(points.map((p) => p.dimensions)).toEqual([{ Queue: 'app-io-queue', Task: 'demo.ping' }, { Queue: 'app-io-queue' }]);
    expect(points.every((p) => p.name === 'JobsFailed' && p.value === 1)).toBe(true);
    expect(() => publishMetrics({ Queue: 'q' }, { JobsFailed: { value: 1, unit: 'Count' } }, [['Task']])).toThrow(/roll-up by Task: not among the dimensions \(Queue\)/);
  });

  it('marks a high-resolution metric, and each call is its own document (nothing carried over)', () => {
    const lines = stdoutOf(() => {
      publishMetrics({ Queue: 'q-io' }, { HeartbeatLatency: { value: 42, unit: 'Milliseconds', storageResolution: 1 } });
      publishMetrics({ Queue: 'q-cpu' }, { HeartbeatLatency: { value: 7, unit: 'Milliseconds' } });
    });
    expect(lines).toHaveLength(2);
    const [high, standard] = lines.map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: Record<string, unknown>[] }[] } } & Record<string, unknown>);
    expect(high?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'HeartbeatLatency', Unit: 'Milliseconds', StorageResolution: 1 }]);
    expect(standard?._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['Queue']], Metrics: [{ Name: 'HeartbeatLatency', Unit: 'Milliseconds' }] });
    expect(standard?.Queue).toBe('q-cpu');
  });

  it('is read back by the local runtime as CloudWatch reads it', () => {
    const [line] = stdoutOf(() => publishMetrics({ Queue: 'q-io' }, { HeartbeatLatency: { value: 42, unit: 'Milliseconds', storageResolution: 1 } }));
    expect(extractEmf(line ?? '')).toEqual([{ namespace: 'Ferry', name: 'HeartbeatLatency', dimensions: { Queue: 'q-io' }, value: 42, timestamp: expect.any(Number) as number }]);
  });

  it('writes nothing for no metrics', () => {
    expect(stdoutOf(() => publishMetrics({ Queue: 'io' }, {}))).toEqual([]);
  });
});
