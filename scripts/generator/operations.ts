/**
 * The collector's bookkeeping tables (scheduler state, run history, metrics,
 * alerts, discovery runs) and the drift extras (alembic_version, collector_notes).
 */
import { IdSequence, later, localPython, mixedUtc, utcPython, utcSqlite, writerFor, type GenContext } from "./context";
import { COLLECTOR_TYPES } from "./plan";
import { metadataJson, pyJson } from "./shapes";

const ERRORS = [
    "sqlite3.OperationalError: database is locked",
    "API rate limit exceeded (429)",
    "aiohttp.ClientResponseError: 502, message='Bad Gateway'",
    "asyncio.TimeoutError",
];

/** Instants spread evenly over the span (with jitter), so each row's timestamp is distinct. */
function spreadUs(ctx: GenContext, rng: GenContext["rng"], k: number, n: number): number {
    return ctx.startUs + Math.floor(((k + rng.next() * 0.9) * (ctx.endUs - ctx.startUs)) / n);
}

export function generateCollectionMetadata(ctx: GenContext): void {
    const rng = ctx.rng.fork("collection_metadata");
    const w = writerFor(ctx, "collection_metadata");
    if (!w) return;
    for (let i = 0; i < ctx.counts.collection_metadata; i++) {
        const runs = rng.int(50, 20_000);
        const errors = rng.int(0, Math.floor(runs / 8));
        const total = runs * rng.range(0.4, 45);
        const lastRunUs = ctx.endUs - rng.int(30, 3600) * 1e6 - rng.int(0, 999_999);
        w.add({
            collector_type: COLLECTOR_TYPES[i],
            // The scheduler stamps these with datetime.now(): host local time.
            last_run: localPython(ctx, lastRunUs),
            last_success: localPython(ctx, rng.chance(0.8) ? lastRunUs : lastRunUs - rng.int(60, 86_400) * 1e6),
            run_count: runs,
            error_count: errors,
            last_error: errors > 0 ? rng.pick(ERRORS) : null,
            total_execution_time: total,
            total_records_collected: runs * rng.int(0, 400),
            average_execution_time: total / runs,
            success_rate: ((runs - errors) / runs) * 100,
            health_score: ((runs - errors) / runs) * rng.range(85, 100),
            last_updated: utcSqlite(lastRunUs + 2_000_000),
        });
    }
    w.finish();
}

export function generateExecutionHistory(ctx: GenContext): void {
    const rng = ctx.rng.fork("execution_history");
    const w = writerFor(ctx, "execution_history");
    if (!w) return;
    const ids = new IdSequence(rng);
    const n = ctx.counts.execution_history;
    for (let k = 0; k < n; k++) {
        const collector = rng.pick(COLLECTOR_TYPES.slice(0, 7));
        const startUs = spreadUs(ctx, rng, k, n);
        const seconds = rng.logRange(0.2, 600);
        const status = rng.chance(0.85) ? "success" : rng.chance(0.5) ? "failure" : "partial";
        const stamp = utcSqlite(startUs).replace(/[-:]/g, "").replace(" ", "_");
        w.add({
            id: ids.next(),
            collector_type: collector,
            execution_id: `${collector}_${stamp}_${rng.hex(8)}`,
            start_time: utcPython(startUs),
            end_time: status === "failure" && rng.chance(0.3) ? null : utcPython(startUs + Math.round(seconds * 1e6)),
            status,
            records_collected: status === "failure" ? 0 : rng.int(0, 5000),
            execution_time: seconds,
            error_message: status === "success" ? null : rng.pick(ERRORS),
            warnings: rng.chance(0.9) ? "{}" : pyJson({ warnings: ["partial page", "slow response"] }),
            execution_metadata: metadataJson(rng, () => ({ pools: rng.int(1, 500), api_calls: rng.int(1, 60) })),
            created_at: mixedUtc(rng, startUs + Math.round(seconds * 1e6)),
        });
    }
    w.finish();
}

const METRICS = ["execution_time", "records_collected", "api_calls", "error_rate", "memory_mb"];

export function generatePerformanceMetrics(ctx: GenContext): void {
    const rng = ctx.rng.fork("performance_metrics");
    const w = writerFor(ctx, "performance_metrics");
    if (!w) return;
    const ids = new IdSequence(rng);
    const n = ctx.counts.performance_metrics;
    for (let k = 0; k < n; k++) {
        const metric = rng.pick(METRICS);
        const at = spreadUs(ctx, rng, k, n);
        w.add({
            id: ids.next(),
            collector_type: rng.pick(COLLECTOR_TYPES.slice(0, 7)),
            metric_name: metric,
            metric_value: metric === "records_collected" || metric === "api_calls" ? rng.int(0, 5000) : rng.logRange(0.001, 900),
            timestamp: utcPython(at),
            labels: metadataJson(rng, () => ({ network: "solana", host: "collector-1" }), 0.3),
            created_at: mixedUtc(rng, at),
        });
    }
    w.finish();
}

const LEVELS = ["info", "warning", "warning", "error", "critical"];

export function generateSystemAlerts(ctx: GenContext): void {
    const rng = ctx.rng.fork("system_alerts");
    const w = writerFor(ctx, "system_alerts");
    if (!w) return;
    const ids = new IdSequence(rng);
    const n = ctx.counts.system_alerts;
    for (let k = 0; k < n; k++) {
        const collector = rng.pick(COLLECTOR_TYPES.slice(0, 7));
        const level = rng.pick(LEVELS);
        const at = spreadUs(ctx, rng, k, n);
        const resolved = rng.chance(0.6) ? 1 : 0;
        w.add({
            id: ids.next(),
            alert_id: `${collector}_${level}_${Math.floor(at / 1e6)}_${k}`,
            level,
            collector_type: collector,
            message: level === "info" ? "collector recovered" : rng.pick(ERRORS),
            timestamp: utcPython(at),
            acknowledged: resolved || rng.chance(0.3) ? 1 : 0,
            resolved,
            alert_metadata: metadataJson(rng, () => ({ consecutive_failures: rng.int(1, 12) }), 0.4),
            created_at: mixedUtc(rng, at),
            updated_at: mixedUtc(rng, later(rng, at, 0, 86_400)),
        });
    }
    w.finish();
}

export function generateDiscoveryMetadata(ctx: GenContext): void {
    const rng = ctx.rng.fork("discovery_metadata");
    const w = writerFor(ctx, "discovery_metadata");
    if (!w) return;
    const ids = new IdSequence(rng);
    const n = ctx.counts.discovery_metadata;
    for (let k = 0; k < n; k++) {
        const at = spreadUs(ctx, rng, k, n);
        const discovered = rng.int(0, 400);
        w.add({
            id: ids.next(),
            discovery_type: rng.pick(["new_pools", "new_pools", "dex_scan", "bootstrap"]),
            target_dex: rng.chance(0.3) ? null : rng.pick(ctx.dexIds),
            pools_discovered: discovered,
            pools_filtered: rng.int(0, discovered),
            discovery_time: utcPython(at),
            execution_time_seconds: rng.logRange(0.5, 300),
            api_calls_made: rng.int(1, 120),
            errors_encountered: rng.chance(0.8) ? 0 : rng.int(1, 5),
            created_at: mixedUtc(rng, at),
        });
    }
    w.finish();
}

/** alembic_version (old installs) and collector_notes (a table unknown to the migration). */
export function generateExtras(ctx: GenContext): void {
    const rng = ctx.rng.fork("extras");
    const alembic = writerFor(ctx, "alembic_version");
    if (alembic) {
        alembic.add({ version_num: rng.hex(12) });
        alembic.finish();
    }
    const notes = writerFor(ctx, "collector_notes");
    if (notes) {
        const ids = new IdSequence(rng);
        for (let k = 0; k < ctx.counts.collector_notes; k++) {
            notes.add({
                id: ids.next(),
                pool_id: ctx.pools.length ? rng.pick(ctx.pools).id : null,
                author: rng.pick(["ops", "alice", "bob"]),
                note: rng.pick(["rug pulled, stop collecting", "check liquidity", "duplicate of main pool", "high volume"]),
                created_at: mixedUtc(rng, spreadUs(ctx, rng, k, ctx.counts.collector_notes)),
            });
        }
        notes.finish();
    }
}
