/**
 * Legacy entry module: stacks created before the providers moved to infra/providers
 * recorded this path in the state of every gecko:AdminPassword resource (the serialised
 * provider requires it), so their refresh and destroy load it. Never move or delete it;
 * test/infra/providers/entries.test.ts pins it.
 */
export * from "../../infra/providers/adminPassword";
