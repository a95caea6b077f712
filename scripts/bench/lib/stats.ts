/** Percentiles and summaries of latency samples (milliseconds). Pure. */

export interface LatencySummary {
    readonly count: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
}

/**
 * The q-quantile (0..1) of `sorted` (ascending) by linear interpolation between
 * closest ranks (numpy's default); NaN for no samples.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
    if (!(q >= 0 && q <= 1)) throw new Error(`quantile must be in [0, 1], got ${q}`);
    const n = sorted.length;
    if (n === 0) return Number.NaN;
    const pos = (n - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
    return quantileSorted(Float64Array.from(values).sort(), 0.5);
}

export function summarize(samples: ArrayLike<number>): LatencySummary {
    const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
    const n = sorted.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i];
    return {
        count: n,
        p50: quantileSorted(sorted, 0.5),
        p95: quantileSorted(sorted, 0.95),
        p99: quantileSorted(sorted, 0.99),
        max: n ? sorted[n - 1] : Number.NaN,
        mean: n ? sum / n : Number.NaN,
    };
}

/** Number of samples strictly above `threshold`. */
export function countAbove(samples: ArrayLike<number>, threshold: number): number {
    let k = 0;
    for (let i = 0; i < samples.length; i++) if (samples[i] > threshold) k++;
    return k;
}
