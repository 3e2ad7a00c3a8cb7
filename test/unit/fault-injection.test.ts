/** The fault plan: parsing it from the environment, its seeded decisions, scripted faults. */
import { describe, expect, it } from 'vitest';
import { describePlan, FaultInjector, faultPlanFromEnv, InvalidFaultPlanError, prng } from '../../lib/local/fault-injection.js';

describe('faultPlanFromEnv', () => {
  it('reads rates, sizes and the seed', () => {
    expect(faultPlanFromEnv({ FERRY_FAULTS: 'calls=0.05 kills=0.02,duplicates=0.05 delays=0.1 skew=3000 maxDelay=500', FERRY_FAULT_SEED: '7' })).toEqual({
      seed: 7,
      calls: 0.05,
      kills: 0.02,
      duplicates: 0.05,
      delays: 0.1,
      skewMs: 3000,
      maxDelayMs: 500,
    });
  });

  it('is off when FERRY_FAULTS is unset or empty, and picks a seed when none is given', () => {
    expect(faultPlanFromEnv({})).toBeUndefined();
    expect(faultPlanFromEnv({ FERRY_FAULTS: ' ' })).toBeUndefined();
    expect(Number.isInteger(faultPlanFromEnv({ FERRY_FAULTS: 'calls=0.1' })?.seed)).toBe(true);
  });

  it('names what is wrong with a bad plan', () => {
    expect(() => faultPlanFromEnv({ FERRY_FAULTS: 'crashes=0.1' })).toThrow(new InvalidFaultPlanError('FERRY_FAULTS: unknown fault "crashes" (known: calls, conflicts, kills, duplicates, delays, skew, maxDelay)'));
    expect(() => faultPlanFromEnv({ FERRY_FAULTS: 'calls=lots' })).toThrow('FERRY_FAULTS: "calls=lots" is not name=number');
    expect(() => faultPlanFromEnv({ FERRY_FAULTS: 'kills=2' })).toThrow('fault rate "kills" must be between 0 and 1 (got 2)');
    expect(() => faultPlanFromEnv({ FERRY_FAULTS: 'calls=0.1', FERRY_FAULT_SEED: 'x' })).toThrow('FERRY_FAULT_SEED must be a whole number (got "x")');
  });

  it('describes a plan with the line that replays it', () => {
    expect(describePlan({ seed: 42, calls: 0.05, skewMs: 3000 })).toContain('FERRY_FAULT_SEED=42');
  });
});

describe('FaultInjector', () => {
  it('makes the same decisions from the same seed', () => {
    const decisions = (seed: number) => {
      const injector = new FaultInjector({ seed, calls: 0.3, kills: 0.5, duplicates: 0.3 });
      const faults = injector.forInvocation('worker', () => undefined);
      return [...Array(50).keys()].map(() => `${faults.next('PutItem', 'worker', {})}/${injector.duplicate()}`);
    };
    expect(decisions(5)).toEqual(decisions(5));
    expect(decisions(5)).not.toEqual(decisions(6));
  });

  it('makes about the stated share of DynamoDB writes meet a transaction, and no read or SQS call', () => {
    const faults = new FaultInjector({ seed: 3, conflicts: 0.1 }).forInvocation('worker', () => undefined);
    const count = (command: string) => Array.from({ length: 10_000 }, () => faults.next(command, 'worker', {})).filter((f) => f === 'conflict').length;
    expect(count('TransactWriteItems') / 10_000).toBeCloseTo(0.1, 1);
    expect(count('UpdateItem')).toBeGreaterThan(800);
    expect(count('GetItem')).toBe(0);
    expect(count('SendMessageBatch')).toBe(0);
  });

  it('parses a conflicts rate from FERRY_FAULTS', () => {
    expect(faultPlanFromEnv({ FERRY_FAULTS: 'conflicts=0.05', FERRY_FAULT_SEED: '7' })).toMatchObject({ seed: 7, conflicts: 0.05 });
  });

  it('injects call faults at about the stated rate, split between throttling, failures and lost responses', () => {
    const faults = new FaultInjector({ seed: 1, calls: 0.05 }).forInvocation('worker', () => undefined);
    const seen = { none: 0, throttle: 0, fail: 0, conflict: 0, 'lose-response': 0, 'kill-before': 0, 'kill-after': 0 };
    for (let i = 0; i < 20_000; i++) seen[faults.next('UpdateItem', 'worker', {})]++;
    expect(seen.none / 20_000).toBeCloseTo(0.95, 2);
    for (const kind of ['throttle', 'fail', 'lose-response'] as const) expect(seen[kind]).toBeGreaterThan(250);
    expect(seen.conflict).toBe(0); // scripted only
  });

  it('gives a scripted fault to the matching calls only, as many times as asked', () => {
    const injector = new FaultInjector({ seed: 1, script: [{ command: 'SendMessage', functionId: 'worker', inputContains: 'step-2', occurrence: 2, times: 2, fault: 'throttle' }] });
    const faults = injector.forInvocation('worker', () => undefined);
    const calls = [
      faults.next('SendMessage', 'worker', { MessageBody: 'step-2' }),
      faults.next('SendMessage', 'worker', { MessageBody: 'step-1' }),
      faults.next('SendMessage', 'worker', { MessageBody: 'step-2' }),
      faults.next('SendMessage', 'api', { MessageBody: 'step-2' }),
      faults.next('SendMessage', 'worker', { MessageBody: 'step-2' }),
      faults.next('SendMessage', 'worker', { MessageBody: 'step-2' }),
    ];
    expect(calls).toEqual(['none', 'none', 'throttle', 'none', 'throttle', 'none']);
  });

  it('kills an invocation once, and reports it', () => {
    let killed = 0;
    const injector = new FaultInjector({ seed: 3, kills: 1 });
    const faults = injector.forInvocation('worker', () => killed++);
    const first = [...Array(4).keys()].map(() => faults.next('GetItem', 'worker', {})).find((f) => f.startsWith('kill'));
    expect(first).toMatch(/^kill-(before|after)$/);
    faults.kill();
    faults.kill();
    expect(killed).toBe(1);
    expect(faults.killed()).toBe(true);
    expect(injector.injected().kill).toBe(1);
  });

  it('skews clocks within the stated bound', () => {
    const injector = new FaultInjector({ seed: 9, skewMs: 3000 });
    const skews = [...Array(200).keys()].map(() => injector.skew());
    expect(Math.max(...skews.map(Math.abs))).toBeLessThanOrEqual(3000);
    expect(new Set(skews).size).toBeGreaterThan(100);
  });
});

describe('prng', () => {
  it('draws numbers in [0, 1)', () => {
    const next = prng(123);
    const draws = [...Array(1000).keys()].map(() => next());
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true);
  });
});

describe('scripted faults on the same calls', () => {
  it('counts every matching call for every entry, so later entries fire where they say', () => {
    const injector = new FaultInjector({
      seed: 1,
      script: [
        { command: 'GetItem', occurrence: 1, fault: 'lose-response' },
        { command: 'GetItem', occurrence: 3, fault: 'fail' },
      ],
    });
    const faults = injector.forInvocation('http', () => undefined);
    expect([1, 2, 3, 4].map(() => faults.next('GetItem', 'http', {}))).toEqual(['lose-response', 'none', 'fail', 'none']);
  });
});
