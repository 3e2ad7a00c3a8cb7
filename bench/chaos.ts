/**
 * `npm run bench:chaos`: the reliability suite (bench/chaos/chaos-run.ts) at
 * full size, under faults at the stated rates: 5% of AWS calls inside
 * invocations (throttled, failed, or applied with the response lost), 2% of
 * invocations killed, 5% of SQS messages delivered twice, 5% of batches late,
 * clocks off by up to 3 s. One JSON line per figure per seed.
 *
 * BENCH_SEEDS=1,2,3 runs those seeds one after another (default: the seed in
 * FERRY_FAULT_SEED, or a random one, printed); BENCH_JOBS, BENCH_WORKFLOWS,
 * BENCH_BURSTS and BENCH_BURST_SIZE set the sizes. Exits 1 when a count that
 * must be zero is not.
 */
import { Figures } from './figures.js';
import { runChaos, STATED_RATES } from './chaos/chaos-run.js';

const ZERO_COUNTS = ['effects_duplicated', 'effects_lost', 'workflows_wrong_result', 'messages_lost', 'dead_letters_without_reason', 'items_stuck', 'report_wrong_result', 'outbox_jobs_before_commit'] as const;

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'error';
  const seeds = (process.env.BENCH_SEEDS ?? process.env.FERRY_FAULT_SEED ?? String(Math.floor(Math.random() * 2 ** 31)))
    .split(',')
    .map((s) => Number(s.trim()));
  const figures = new Figures('chaos');
  let failed = false;
  for (const seed of seeds) {
    process.stderr.write(`chaos: seed ${seed} (replay: BENCH_SEEDS=${seed} npm run bench:chaos)\n`);
    const result = await runChaos({
      seed,
      jobs: Number(process.env.BENCH_JOBS ?? 10_000),
      workflows: Number(process.env.BENCH_WORKFLOWS ?? 200),
      reportBursts: Number(process.env.BENCH_BURSTS ?? 5),
      burstSize: Number(process.env.BENCH_BURST_SIZE ?? 50),
      log: (line) => {
        if (line.startsWith('faults:') || line.startsWith('chaos:')) process.stderr.write(`${line}\n`);
      },
    });
    const labels = { seed, calls: STATED_RATES.calls, conflicts: STATED_RATES.conflicts, kills: STATED_RATES.kills, duplicates: STATED_RATES.duplicates, delays: STATED_RATES.delays, skew_ms: STATED_RATES.skewMs };
    for (const metric of ['jobs_enqueued', 'jobs_terminal', ...ZERO_COUNTS, 'workflows_started', 'workflows_terminal', 'report_bursts', 'effects_repeated_at_least_once', 'outbox_writes', 'signups', 'onboarding_deliveries', 'provider_calls_repeated', 'faults_injected'] as const) {
      figures.report(metric, result[metric], 'count', labels);
    }
    for (const [kind, count] of Object.entries(result.faults_by_kind)) figures.report(`faults_${kind.replace('-', '_')}`, count, 'count', labels);
    figures.report('seed', seed, 'seed', labels);
    figures.report('wall_ms', result.wall_ms, 'ms', labels);
    for (const problem of result.problems.slice(0, 40)) process.stderr.write(`  problem: ${problem}\n`);
    if (ZERO_COUNTS.some((m) => result[m] !== 0) || result.jobs_terminal !== result.jobs_enqueued || result.workflows_terminal !== result.workflows_started) failed = true;
  }
  figures.table();
  if (failed) {
    process.stderr.write('chaos: a count that must be zero is not (see the problems above)\n');
    process.exitCode = 1;
  }
}

await main();
