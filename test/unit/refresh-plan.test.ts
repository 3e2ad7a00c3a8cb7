import { describe, expect, it } from 'vitest';
import { planRefresh, REFRESH_PLAN_DEFAULTS, refreshPlanOptionsFromEnv, resolveRefreshPlanOptions } from '../../app/reports/refresh-plan.js';
import { documentedDefaults } from '../helpers/documented-defaults.js';

describe('planRefresh', () => {
  it('computes a month over 100,000 rows in one job, 8 partitions at a time', () => {
    expect(planRefresh({ partitions: 31, rows: 100_000 })).toEqual({
      path: 'one-job',
      estimate: { partitions: 31, rows: 100_000 },
      reason: "31 partitions, at most 100,000 rows: within one job's limits",
      queryConcurrency: 8,
    });
  });

  it('fans out past 100 partitions or 250,000 rows, naming each limit passed, and at the limits stays in one job', () => {
    expect(planRefresh({ partitions: 100, rows: 250_000 }).path).toBe('one-job');
    expect(planRefresh({ partitions: 366, rows: 100_000 })).toMatchObject({ path: 'fan-out', reason: '366 partitions, at most 100,000 rows: more than 100 partitions' });
    expect(planRefresh({ partitions: 31, rows: 250_001 })).toMatchObject({ path: 'fan-out', reason: '31 partitions, at most 250,001 rows: more than 250,000 rows' });
    expect(planRefresh({ partitions: 101, rows: 1_000_000 }).reason).toBe('101 partitions, at most 1,000,000 rows: more than 100 partitions and more than 250,000 rows');
  });

  it('fans out a refresh whose work could not be estimated', () => {
    expect(planRefresh(undefined)).toEqual({ path: 'fan-out', reason: 'the work could not be estimated', queryConcurrency: 8 });
  });

  it('fans out every refresh when a limit is 0', () => {
    expect(planRefresh({ partitions: 1, rows: 0 }, { oneJobMaxPartitions: 0 }).path).toBe('fan-out');
    expect(planRefresh({ partitions: 1, rows: 1 }, { oneJobMaxRows: 0 }).path).toBe('fan-out');
  });

  it('refuses options out of range, naming the option and the range', () => {
    expect(() => resolveRefreshPlanOptions({ oneJobMaxPartitions: -1 })).toThrow(/^oneJobMaxPartitions must be a whole number from 0 to 100,000 \(got "-1"\)$/);
    expect(() => resolveRefreshPlanOptions({ oneJobMaxRows: 1.5 })).toThrow(/^oneJobMaxRows must be a whole number from 0 to 1,000,000,000 \(got "1.5"\)$/);
    expect(() => resolveRefreshPlanOptions({ queryConcurrency: 65 })).toThrow(/^queryConcurrency must be a whole number from 1 to 64 \(got "65"\)$/);
  });

  it('has the documented defaults', () => {
    const doc = documentedDefaults('app/reports/refresh-plan.ts');
    expect(doc.number('RefreshPlanOptions', 'oneJobMaxPartitions')).toBe(REFRESH_PLAN_DEFAULTS.oneJobMaxPartitions);
    expect(doc.number('RefreshPlanOptions', 'oneJobMaxRows')).toBe(REFRESH_PLAN_DEFAULTS.oneJobMaxRows);
    expect(doc.number('RefreshPlanOptions', 'queryConcurrency')).toBe(REFRESH_PLAN_DEFAULTS.queryConcurrency);
    expect(resolveRefreshPlanOptions()).toEqual(REFRESH_PLAN_DEFAULTS);
  });
});

describe('refreshPlanOptionsFromEnv', () => {
  it('reads the limits from the environment, leaving unset and empty variables to the defaults', () => {
    expect(refreshPlanOptionsFromEnv({})).toEqual({});
    expect(refreshPlanOptionsFromEnv({ FERRY_REPORT_ONE_JOB_MAX_PARTITIONS: ' 0 ', FERRY_REPORT_ONE_JOB_MAX_ROWS: '' })).toEqual({ oneJobMaxPartitions: 0 });
    expect(refreshPlanOptionsFromEnv({ FERRY_REPORT_ONE_JOB_MAX_ROWS: '1000000' })).toEqual({ oneJobMaxRows: 1_000_000 });
  });

  it('refuses a value that is not a whole number in range, naming the variable', () => {
    expect(() => refreshPlanOptionsFromEnv({ FERRY_REPORT_ONE_JOB_MAX_PARTITIONS: '1e3' })).toThrow(
      /^FERRY_REPORT_ONE_JOB_MAX_PARTITIONS must be a whole number from 0 to 100,000 \(got "1e3"\)$/,
    );
    expect(() => refreshPlanOptionsFromEnv({ FERRY_REPORT_ONE_JOB_MAX_ROWS: '2000000000' })).toThrow(
      /^FERRY_REPORT_ONE_JOB_MAX_ROWS must be a whole number from 0 to 1,000,000,000 \(got "2000000000"\)$/,
    );
  });
});
