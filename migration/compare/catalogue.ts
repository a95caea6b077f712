/**
 * Every query compare runs: the collector's frequent reads and its ORM's reads by key, each with
 * its runs under the drawn parameters, or the reason it is left out (the source file lacks what
 * the collector's SQLite path would need, or the data offers no parameters). Pure.
 */
import { sourceHas } from "./columns";
import type { DrawnParameters } from "./params";
import { ORM_READS } from "./ormReads";
import { COLLECTOR_QUERIES } from "./queries";
import type { Mappings, QueryDefinition, QueryInstance } from "./query";

export interface SkippedQuery {
    readonly id: string;
    readonly reason: string;
}

export interface Catalogue {
    readonly instances: readonly QueryInstance[];
    readonly skipped: readonly SkippedQuery[];
}

export const ALL_QUERIES: readonly QueryDefinition[] = [...COLLECTOR_QUERIES, ...ORM_READS];

/** The runs of every query whose id starts with one of `only` (all when empty). */
export function planCatalogue(mappings: Mappings, params: DrawnParameters, only: readonly string[] = []): Catalogue {
    const instances: QueryInstance[] = [];
    const skipped: SkippedQuery[] = [];
    for (const def of ALL_QUERIES) {
        if (only.length && !only.some((prefix) => def.id.startsWith(prefix))) continue;
        const missing = missingNeed(mappings, def);
        if (missing) {
            skipped.push({ id: def.id, reason: `the source file has no ${missing}` });
            continue;
        }
        const runs = def.instances(params);
        if (typeof runs === "string" || runs.length === 0) {
            skipped.push({ id: def.id, reason: typeof runs === "string" ? runs : "no parameters drawn" });
            continue;
        }
        const query = def.build(mappings);
        for (const run of runs) instances.push({ ...run, query });
    }
    return { instances, skipped };
}

/** The first table or column a query needs that the source file lacks, named for the report. */
function missingNeed(mappings: Mappings, def: QueryDefinition): string | undefined {
    for (const need of def.needs) {
        const [table, column] = need.split(".");
        if (!sourceHas(mappings, table)) return `table ${table}`;
        if (column && !sourceHas(mappings, table, column)) return `column ${need}`;
    }
    return undefined;
}
