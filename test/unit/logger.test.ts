import { createRequire } from 'node:module';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRootLogger } from '../../src/shared/logger.js';
import { tempDir } from '../helpers/paths.js';

const require = createRequire(import.meta.url);
const prettyPath = require.resolve('pino-pretty');

describe('root logger', () => {
  it('writes JSON without loading pino-pretty, and loads it for pretty output', () => {
    const tmp = tempDir('earshot-logger-');
    const file = join(tmp.dir, 'log.txt');
    const fd = openSync(file, 'w');
    try {
      createRootLogger({ format: 'json', fd }).info({ part: 'test' }, 'as JSON');
      expect(JSON.parse(readFileSync(file, 'utf8').trim())).toMatchObject({ msg: 'as JSON' });
      // The daemon under systemd writes JSON: it should not carry the pretty printer.
      expect(require.cache[prettyPath]).toBeUndefined();

      createRootLogger({ format: 'pretty', fd }).info({ part: 'test' }, 'for people');
      expect(readFileSync(file, 'utf8')).toContain('[test] for people');
      expect(require.cache[prettyPath]).toBeDefined();
    } finally {
      closeSync(fd);
      tmp.cleanup();
    }
  });
});
