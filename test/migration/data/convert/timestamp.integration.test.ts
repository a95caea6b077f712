/**
 * convertTimestamp against PostgreSQL's timestamptz: every text shape in several zones,
 * naive local times around DST, epoch seconds and milliseconds. The shapes alone:
 * timestamp.test.ts.
 */
import { describe, expect, it } from "vitest";
import { convertTimestamp } from "../../../../migration/data/convert/timestamp";
import { mismatches, oracleClient, pgEach, prng, resultText } from "../../../support/convertOracle";

const PG_CANONICAL = (expr: string) => `((${expr}) AT TIME ZONE 'UTC')::text || '+00'`;

describe("convertTimestamp: agrees with PostgreSQL", () => {
    const pg = oracleClient("conv_ts");

    it.each(["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"])(
        "every text shape equals text::timestamptz with TimeZone = %s",
        async (zone) => {
            const rnd = prng(zone.length * 7919);
            const p2 = (n: number) => String(n).padStart(2, "0");
            const inputs: string[] = [];
            for (let i = 0; i < 1500; i++) {
                const y = rnd.int(1970, 2037),
                    mo = rnd.int(1, 12),
                    d = rnd.int(1, 28);
                // half the values near the small hours of a March/April/October/November Sunday-ish date: DST territory
                const dstish = rnd.chance(0.5);
                const month = dstish ? rnd.pick([3, 4, 10, 11]) : mo;
                const h = dstish ? rnd.int(0, 4) : rnd.int(0, 23);
                let text = `${y}-${p2(month)}-${p2(d)}`;
                if (!rnd.chance(0.05)) {
                    text += `${rnd.pick([" ", " ", "T"])}${p2(h)}:${p2(rnd.int(0, 59))}`;
                    if (!rnd.chance(0.05)) {
                        text += `:${p2(rnd.int(0, 59))}`;
                        if (rnd.chance(0.7)) text += `.${Array.from({ length: rnd.int(1, 9) }, () => rnd.int(0, 9)).join("")}`;
                    }
                    const suffix = rnd.int(0, 9);
                    const oh = p2(rnd.int(0, 14)),
                        om = rnd.pick(["00", "30", "45"]),
                        sign = rnd.pick(["+", "-"]);
                    if (suffix === 0) text += "Z";
                    else if (suffix === 1) text += `${sign}${oh}:${om}`;
                    else if (suffix === 2) text += `${sign}${oh}${om}`;
                    else if (suffix === 3) text += `${sign}${oh}`;
                    else if (suffix === 4) text += ` ${sign}${oh}:${om}`;
                }
                inputs.push(text);
            }
            await pg().query(`SET TimeZone = '${zone}'`);
            const theirs = await pgEach(pg(), `select ${PG_CANONICAL("$1::timestamptz")}`, inputs);
            const ours = inputs.map((t) => resultText(convertTimestamp(t, zone)));
            expect(mismatches(inputs, ours, theirs)).toEqual([]);
        },
    );

    it.each(["America/Chicago", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Europe/Moscow", "Pacific/Apia"])(
        "naive local times around DST transitions equal (naive::timestamp AT TIME ZONE '%s'), with the right gap/overlap warning",
        async (zone) => {
            const rnd = prng(zone.charCodeAt(0) * 104729);
            const p2 = (n: number) => String(n).padStart(2, "0");
            const inputs: string[] = [];
            for (let y = 1975; y <= 2035; y++) {
                for (const month of [3, 4, 9, 10, 11, 12]) {
                    for (let day = 1; day <= 31; day++) {
                        if (day > 30 && (month === 4 || month === 9 || month === 11)) continue;
                        if (new Date(Date.UTC(y, month - 1, day)).getUTCDay() !== 0 && !(zone === "Pacific/Apia" || rnd.chance(0.02)))
                            continue;
                        for (let k = 0; k < 4; k++) {
                            const minutes = rnd.int(0, 5 * 60); // 00:00 .. 05:00
                            inputs.push(
                                `${y}-${p2(month)}-${p2(day)} ${p2(Math.floor(minutes / 60))}:${p2(minutes % 60)}:${p2(rnd.int(0, 59))}.${String(rnd.int(0, 999999)).padStart(6, "0")}`,
                            );
                        }
                    }
                }
            }
            const query = `select ${PG_CANONICAL("t")} || '|' || case
                    when (t AT TIME ZONE '${zone}') <> l then 'dst-nonexistent'
                    when ((t - interval '30 minutes') AT TIME ZONE '${zone}') = l or ((t - interval '1 hour') AT TIME ZONE '${zone}') = l then 'dst-ambiguous'
                    else 'exact' end
                from (select $1::timestamp as l, ($1::timestamp AT TIME ZONE '${zone}') as t) s`;
            await pg().query("SET TimeZone = 'UTC'");
            const theirs = await pgEach(pg(), query, inputs);
            const ours = inputs.map((t) => {
                const r = convertTimestamp(t, zone);
                return r.ok ? `${r.value}|${r.warning ?? "exact"}` : "ERROR";
            });
            expect(mismatches(inputs, ours, theirs)).toEqual([]);
            // The sample really crosses transitions in both directions (Apia and Moscow only some years).
            expect(ours.filter((o) => o.endsWith("dst-nonexistent")).length).toBeGreaterThan(0);
            expect(ours.filter((o) => o.endsWith("dst-ambiguous")).length).toBeGreaterThan(0);
        },
    );

    it("epoch seconds and milliseconds equal PostgreSQL's epoch arithmetic", async () => {
        const rnd = prng(99);
        const inputs: string[] = [];
        for (let i = 0; i < 2000; i++) {
            if (rnd.chance(0.5)) inputs.push(String(rnd.int(-2_000_000_000, 4_000_000_000)));
            else inputs.push(String(BigInt(rnd.int(100_000_000, 4_000_000_000)) * 1000n + BigInt(rnd.int(0, 999))));
        }
        inputs.push("99999999999", "100000000000");
        const theirs = await pgEach(
            pg(),
            `select ${PG_CANONICAL(`'epoch'::timestamptz + case when abs($1::bigint) >= 100000000000 then $1::bigint * interval '1 millisecond' else $1::bigint * interval '1 second' end`)}`,
            inputs,
        );
        const ours = inputs.map((t) => resultText(convertTimestamp(BigInt(t), "America/Chicago")));
        expect(mismatches(inputs, ours, theirs)).toEqual([]);
    });
});
