import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

export const shared = path.resolve(import.meta.dirname, '../../../shared/fixtures');
export const hasShared = existsSync(shared);

/** A throwaway project folder holding the given files. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fatchart-convert-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** Compares with test/golden/convert/NAME; UPDATE_GOLDEN=1 rewrites the file. */
export function golden(name: string, actual: string): void {
  const file = path.resolve(import.meta.dirname, '../golden/convert', name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
