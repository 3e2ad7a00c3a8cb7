/** Benchmark output: one JSON line per figure, and a table at the end. */

export interface Figure {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly [label: string]: string | number | boolean;
}

export class Figures {
  private readonly all: Figure[] = [];
  constructor(private readonly bench: string) {}

  report(metric: string, value: number, unit: string, labels: Record<string, string | number | boolean> = {}): void {
    const figure: Figure = { bench: this.bench, metric, value: Math.round(value * 1000) / 1000, unit, ...labels };
    this.all.push(figure);
    console.log(JSON.stringify(figure));
  }

  table(): void {
    console.log(`\n${'metric'.padEnd(44)} ${'value'.padStart(10)}  unit  labels`);
    for (const { bench: _b, metric, value, unit, ...labels } of this.all) {
      const shown = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`).join(' ');
      console.log(`${metric.padEnd(44)} ${String(value).padStart(10)}  ${unit}  ${shown}`);
    }
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
