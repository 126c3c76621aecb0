import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorCodeTable, isErrorCode } from '../../src/shared/error-codes.js';
import { EarshotError } from '../../src/shared/errors.js';
import { repoRoot } from '../helpers/paths.js';

describe('error code registry', () => {
  it('the README holds the table generated from the registry', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const m = /<!-- error-codes:start -->\n([\s\S]*?)\n<!-- error-codes:end -->/.exec(readme);
    expect(m, 'README has no error-codes section').not.toBeNull();
    expect(m![1]).toBe(errorCodeTable());
  });

  it('every code is E_ + capitals, with a part and a sentence', () => {
    const codes = Object.entries(ERROR_CODES);
    expect(codes.length).toBeGreaterThan(50);
    for (const [code, info] of codes) {
      expect(code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(info.part).not.toBe('');
      expect(info.meaning).toMatch(/\.$/);
      expect(`${info.meaning}${'hint' in info ? info.hint : ''}`).not.toMatch(/\|/);
    }
  });

  it('an error without a hint of its own carries its code’s hint', () => {
    expect(new EarshotError('E_LEDGER_WRITE', 'x').hint).toBe(ERROR_CODES.E_LEDGER_WRITE.hint);
    expect(new EarshotError('E_LEDGER_WRITE', 'x', { hint: 'mine' }).hint).toBe('mine');
    expect(isErrorCode('E_LEDGER_WRITE')).toBe(true);
    expect(isErrorCode('E_MADE_UP')).toBe(false);
  });

  it('every code the source gives out is in the registry', () => {
    // Codes in quotes anywhere under src/ (EarshotError, protocol answers, problems).
    const found = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/['`](E_[A-Z0-9_]+)['`:]/g)) {
            found.add(m[1]!);
          }
        }
      }
    };
    walk(join(repoRoot, 'src'));
    expect(found.size).toBeGreaterThan(40);
    const unknown = [...found].filter((c) => !isErrorCode(c));
    expect(unknown).toEqual([]);
  });
});
