import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { randomToken } from './lib/crypto.js';

/**
 * A secret from the environment, or one generated on first start and kept in the data directory
 * (mode 0600) so restarts keep it. `created` tells the caller to print it once.
 */
export function persistentSecret(config: Config, envValue: string | undefined, file: string): { value: string; created: boolean } {
  if (envValue) return { value: envValue, created: false };
  const p = path.resolve(config.DATA_DIR, file);
  if (fs.existsSync(p)) return { value: fs.readFileSync(p, 'utf8').trim(), created: false };
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const value = randomToken(32);
  fs.writeFileSync(p, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}
