/**
 * A DynamoDB for tests: dynalite (in memory) on a free port on 127.0.0.1, reached by
 * the real SDK v3 client, with the ledger table created from LEDGER_KEY_SCHEMA. One
 * implementation, shared with the rehearsal engine.
 */
export { createLedgerTable, recreateLedgerTable, startDynalite, type LocalDynamo } from '../../rehearsal/simulator/dynamodb';
