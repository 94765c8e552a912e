// A log-linear latency histogram in the manner of HdrHistogram: values in microseconds,
// exact below 128 µs, then 64 buckets per power of two (relative error < 1.6 %), so any
// percentile up to the max costs a fixed 2,048 counters however many values go in.
// Histograms from several processes merge by adding their counts.

const SUB_BITS = 7; // 128 sub-buckets, the upper half of them used per power of two above
const HALF = 1 << (SUB_BITS - 1);
const SIZE = 2048; // enough for values up to 2^(2048/64) µs, far beyond any run

function indexOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  const bits = v === 0 ? 0 : 32 - Math.clz32(v);
  if (bits <= SUB_BITS) return v;
  const shift = bits - SUB_BITS;
  return Math.min(SIZE - 1, shift * HALF + (v >>> shift));
}

/** The highest value that falls into bucket `index` (what a percentile reports, as HDR does). */
function highestOf(index: number): number {
  if (index < 1 << SUB_BITS) return index;
  const shift = Math.floor(index / HALF) - 1;
  const mantissa = index - shift * HALF;
  return (mantissa + 1) * 2 ** shift - 1;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  readonly counts: number[];
  count = 0;
  maxUs = 0;

  constructor(counts?: readonly number[]) {
    this.counts = new Array<number>(SIZE).fill(0);
    if (counts) this.add({ counts, count: counts.reduce((a, b) => a + b, 0), maxUs: 0 });
  }

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  recordMs(ms: number): void {
    const us = ms * 1000;
    this.counts[indexOf(us)]! += 1;
    this.count += 1;
    if (us > this.maxUs) this.maxUs = us;
  }

  add(other: { counts: readonly number[]; count: number; maxUs: number }): void {
    for (let i = 0; i < SIZE; i++) this.counts[i]! += other.counts[i] ?? 0;
    this.count += other.count;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** Value at percentile p (0..100), in milliseconds. */
  percentileMs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestOf(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    const r = (ms: number) => Math.round(ms * 100) / 100;
    return {
      count: this.count,
      p50: r(this.percentileMs(50)),
      p95: r(this.percentileMs(95)),
      p99: r(this.percentileMs(99)),
      p999: r(this.percentileMs(99.9)),
      max: r(this.maxUs / 1000),
    };
  }

  /** Plain data for IPC and JSON (only the non-empty buckets). */
  toJSON(): { buckets: [number, number][]; count: number; maxUs: number } {
    const buckets: [number, number][] = [];
    this.counts.forEach((c, i) => {
      if (c > 0) buckets.push([i, c]);
    });
    return { buckets, count: this.count, maxUs: this.maxUs };
  }

  static fromJSON(data: { buckets: [number, number][]; count: number; maxUs: number }): Histogram {
    const h = new Histogram();
    for (const [i, c] of data.buckets) h.counts[i]! += c;
    h.count = data.count;
    h.maxUs = data.maxUs;
    return h;
  }
}
