import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/** The ledger file: `privacy.ledger`, else `ledger.jsonl` in the state directory. */
export function ledgerPath(config: Config): string {
  return config.privacy.ledger ?? join(config.device.stateDir, 'ledger.jsonl');
}
