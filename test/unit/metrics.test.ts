import { describe, expect, it } from 'vitest';
import { embeddedMetrics, METRICS_NAMESPACE } from '../../lib/util/metrics.js';

describe('embeddedMetrics', () => {
  it('writes the CloudWatch EMF envelope with the dimensions and metric values as fields of the same entry', () => {
    expect(embeddedMetrics({ Queue: 'io', Task: 'demo.ping' }, { JobsSucceeded: { value: 1, unit: 'Count' }, JobDurationMs: { value: 12.5, unit: 'Milliseconds' } }, 1_700_000_000_000)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
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
  });
});
