import { describe, expect, it } from 'vitest';
import { ageInWords, progressInWords, spanInWords } from '../../app/reports/report-page.js';

describe('spanInWords', () => {
  it('says seconds under a minute, minutes under an hour, then hours, singular for one', () => {
    expect([spanInWords(1_000), spanInWords(45_000), spanInWords(60_000), spanInWords(150_000), spanInWords(7_200_000)]).toEqual([
      '1 second',
      '45 seconds',
      '1 minute',
      '3 minutes',
      '2 hours',
    ]);
  });
});

describe('ageInWords', () => {
  const now = 1_800_000_000_000;
  it('says how long ago a fresh result was computed and how long it stays fresh', () => {
    expect(ageInWords(now - 120_000, now + 180_000, now)).toBe('computed 2 minutes ago, fresh for 3 minutes more');
    expect(ageInWords(now - 1_000, now + 299_000, now)).toBe('computed just now, fresh for 5 minutes more');
  });

  it('says how long a result has been stale', () => {
    expect(ageInWords(now - 420_000, now - 120_000, now)).toBe('computed 7 minutes ago, stale for 2 minutes');
  });
});

describe('progressInWords', () => {
  it('waits for a worker while queued, calculates (no progress: one job, or a chord not yet counted), counts partitions, then combines', () => {
    expect(progressInWords('queued', undefined)).toBe('waiting for a worker');
    expect(progressInWords('running', undefined)).toBe('calculating');
    expect(progressInWords('running', { partitionsDone: 12, partitions: 31 })).toBe('12 of 31 partitions read');
    expect(progressInWords('running', { partitionsDone: 31, partitions: 31 })).toBe('31 of 31 partitions read; combining');
  });
});
