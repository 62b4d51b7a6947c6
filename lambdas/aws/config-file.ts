/** Loads the targets file bundled next to the plan function (see lib/release-functions.ts). */
import { readFileSync } from 'node:fs';
import { parseConfig, type ReleaseManagerConfig } from '../domain/config';

export function loadConfigFile(path: string): ReleaseManagerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the targets file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`The targets file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(document, `targets file ${path}`);
}
