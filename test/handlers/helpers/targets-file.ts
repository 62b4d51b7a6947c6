/**
 * Points the handlers that need the targets at helpers/targets.json. They read
 * TARGETS_FILE on their first invocation; importing this module first sets it in time.
 */
import { join } from 'node:path';

export const TARGETS_FILE = join(__dirname, 'targets.json');
process.env.TARGETS_FILE = TARGETS_FILE;
