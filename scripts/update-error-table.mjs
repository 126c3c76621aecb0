#!/usr/bin/env node
// Rewrites the README's table of error codes (between its error-codes markers) from the
// registry in src/shared/error-codes.ts (compiled to dist/). Run: npm run docs:errors
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodeTable } from '../dist/shared/error-codes.js';

const file = new URL('../README.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const marked = /(<!-- error-codes:start -->\n)[\s\S]*?(\n<!-- error-codes:end -->)/;
if (!marked.test(text)) throw new Error('README.md has no error-codes markers');
writeFileSync(
  file,
  text.replace(marked, (_, start, end) => `${start}${errorCodeTable()}${end}`),
);
