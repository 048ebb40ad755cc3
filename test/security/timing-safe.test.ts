import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { safeEqual } from '../../src/lib/crypto.js';

/**
 * Secrets are compared in constant time: `safeEqual` (crypto.timingSafeEqual behind a length check) is the only
 * comparison used for tokens, keys, signatures, passwords and CSRF tokens. The scan below is the code review,
 * automated so that code landing later is checked too.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SECRETISH = /(token|secret|signature|password|passwd|csrf|hmac|digest|apikey|api_key|writekey|write_key|ingestkey|ingest_key)/i;
const LITERAL = /^(['"`].*['"`]|-?\d+(\.\d+)?|null|undefined|true|false|\[\]|\{\})$/;
/** The value's own name: `ctx.adminToken` → adminToken, `cachedPassword?.dataDir` → dataDir. */
const lastName = (operand: string) => operand.split(/[.?!\[\]()'"]+/).filter(Boolean).pop() ?? '';
const COMPARISON = /([\w.$?!\[\]'"()]+)\s*(===|!==|==|!=)\s*([\w.$?!\[\]'"()]+)/g;

describe('constant-time comparison of secrets', () => {
  it('safeEqual: equal, unequal, different lengths (no throw), buffers and strings', () => {
    expect(safeEqual('agk_abc', 'agk_abc')).toBe(true);
    expect(safeEqual('agk_abc', 'agk_abd')).toBe(false);
    expect(safeEqual('agk_abc', 'agk_abcd')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
    expect(safeEqual(Buffer.from('k'), 'k')).toBe(true);
    expect(safeEqual('é', 'e\u0301')).toBe(false);
  });

  it('src compares secret-named values only through safeEqual, and calls timingSafeEqual only behind a length check', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(20);
    const direct: string[] = [];
    const rawTimingSafe: string[] = [];
    for (const file of files) {
      const rel = path.relative(SRC, file);
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        for (const m of code.matchAll(COMPARISON)) {
          const [, left, , right] = m;
          const sides = [left.replace(/^[(!]+|[)]+$/g, ''), right.replace(/^[(!]+|[)]+$/g, '')];
          if (sides.some((s) => LITERAL.test(s))) continue;
          if (/typeof\s*$/.test(code.slice(0, m.index))) continue;
          if (sides.some((s) => SECRETISH.test(lastName(s)))) direct.push(`${rel}:${i + 1}: ${line.trim()}`);
        }
        if (/timingSafeEqual\(/.test(code) && rel !== path.join('lib', 'crypto.ts')) rawTimingSafe.push(`${rel}:${i + 1}`);
      });
    }
    expect(direct).toEqual([]);
    expect(rawTimingSafe).toEqual([]);
    // The one place timingSafeEqual is called checks lengths first (it throws on unequal lengths: a 500).
    const crypto = fs.readFileSync(path.join(SRC, 'lib', 'crypto.ts'), 'utf8');
    expect(crypto).toMatch(/if \(x\.length !== y\.length\) return false;\s*return crypto\.timingSafeEqual\(x, y\);/);
  });

  it('the scan does flag a direct comparison (control)', () => {
    const line = 'if (token === ctx.adminToken) return next();';
    const flagged = (l: string) => [...l.matchAll(COMPARISON)].some(([, a, , b]) => [a, b].some((s) => SECRETISH.test(lastName(s))) && ![a, b].some((s) => LITERAL.test(s)));
    expect(flagged(line)).toBe(true);
    expect(flagged('if (req.body.signature != expected.hmacDigest) fail();')).toBe(true);
    expect(flagged('if (cachedPassword?.dataDir !== ctx.config.DATA_DIR) reload();')).toBe(false);
  });
});
