/**
 * Points the plan handler at helpers/targets.json. plan-release reads TARGETS_FILE when
 * it is loaded, so import this module before the handler.
 */
import { join } from 'node:path';

export const TARGETS_FILE = join(__dirname, 'targets.json');
process.env.TARGETS_FILE = TARGETS_FILE;
