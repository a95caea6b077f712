/**
 * Legacy entry module: stacks created before the providers moved to infra/providers
 * recorded this path in the state of every gecko:Migration resource (its serialised
 * provider requires it for the progress lines), so their refresh and destroy load it.
 * Never move or delete it; test/infra/providers/entries.test.ts pins it.
 */
export { lineLogger } from "../data/report/progress";
