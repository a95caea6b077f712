/**
 * The reads the collector's ORM issues for a row it loads by key (`session.get`, a relationship's
 * lazy load): every mapped column `WHERE <key> = ?`, once per key (collector-postgresql-models.md).
 * One per collector table the file has, over keys sampled across the table. Pure.
 */
import { TARGET_TABLES } from "../schema/tables";
import { selectMapped, type QueryDefinition } from "./query";

function ormRead(table: string, key: string): QueryDefinition {
    const id = `orm.${table}`;
    return {
        id,
        needs: [`${table}.${key}`],
        build: (m) =>
            selectMapped(m, {
                id,
                title: `${table} by ${key}, every mapped column`,
                origin: "ORM read by key",
                table,
                where: `${key} = ?`,
            }),
        instances: (p) => {
            const keys = p.keys[table] ?? [];
            return keys.length ? [{ label: `${keys.length} sampled keys`, paramSets: keys.map((k) => [k]) }] : "no rows";
        },
    };
}

/** One read by key per collector table, by its row key (collection_metadata: collector_type). */
export const ORM_READS: readonly QueryDefinition[] = TARGET_TABLES.filter((t) => t.rowKey.length === 1).map((t) =>
    ormRead(t.name, t.rowKey[0]),
);
