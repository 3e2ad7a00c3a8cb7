/** A progress bar for a terminal: one line, redrawn in place. */

/** Redraws one line on a terminal, at most every 100 ms: bar, percent, done/total `unit`, `unit`/s. `started` is a `performance.now()`. */
export function progressBar(total: number, started: number, unit: string): { update(written: number): void; finish(): void } {
  const width = 30;
  let lastDraw = 0;
  let drawn = false;
  const draw = (written: number) => {
    const fraction = written / total;
    const filled = Math.round(fraction * width);
    const rate = written / Math.max((performance.now() - started) / 1000, 0.001);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(fraction * 100)
      .toString()
      .padStart(3)}%  ${written.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}  ${Math.round(rate).toLocaleString('en-US')} ${unit}/s`;
    process.stdout.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  let latest = 0;
  return {
    update(written) {
      latest = written;
      const now = performance.now();
      if (now - lastDraw >= 100 || written === total) {
        lastDraw = now;
        draw(written);
      }
    },
    finish() {
      if (drawn) {
        draw(latest);
        process.stdout.write('\n');
      }
    },
  };
}
