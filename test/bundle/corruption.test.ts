import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../../src/actions/pack.js';
import { verify } from '../../src/actions/verify.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { FatchartError } from '../../src/errors.js';
import { quietContext } from '../../src/util/context.js';
import { runCli } from '../support/cli.js';
import { ensureExampleData, examplesDir } from '../support/examples.js';

let work: string;
let bundle: string;
let original: Buffer;

beforeAll(async () => {
  ensureExampleData();
  work = await mkdtemp(join(tmpdir(), 'fatchart-corrupt-'));
  bundle = join(work, 'notes.fatchart');
  await pack({ source: 'manifests', location: join(examplesDir, 'notes'), out: bundle, created: new Date(0) }, quietContext());
  original = await readFile(bundle);
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function verifyError(data: Buffer, deep = false): Promise<FatchartError> {
  const path = join(work, 'flipped.fatchart');
  await writeFile(path, data);
  try {
    await verify(path, { deep }, quietContext());
  } catch (err) {
    if (err instanceof FatchartError) return err;
    throw err;
  }
  throw new Error('verify accepted a corrupted bundle');
}

describe('a flipped byte anywhere is detected', () => {
  it('in every entry body, naming the entry', async () => {
    const reader = await BundleReader.open(bundle);
    for (const e of reader.entries.values()) {
      if (e.size === 0) continue;
      for (const at of [e.offset, e.offset + Math.floor(e.size / 2), e.offset + e.size - 1]) {
        const data = Buffer.from(original);
        data[at]! ^= 0x01;
        const err = await verifyError(data);
        expect(['verification', 'unsupported', 'unsafe']).toContain(err.code);
        // The manifest is read first; for any other entry the message names it.
        expect(err.message).toContain(e.name);
      }
    }
  });

  it('at every 331st byte of the whole file, headers and padding included', async () => {
    let checked = 0;
    for (let at = 0; at < original.length; at += 331) {
      const data = Buffer.from(original);
      data[at]! ^= 0x80;
      const err = await verifyError(data);
      expect(err.exitCode).toBeGreaterThanOrEqual(2);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('the CLI exits 2 and names the entry', async () => {
    const reader = await BundleReader.open(bundle);
    const vol = reader.manifest.volumes[0]!;
    const info = reader.entries.get(vol.entry)!;
    const data = Buffer.from(original);
    data[info.offset + 10]! ^= 0xff;
    const path = join(work, 'cli-flipped.fatchart');
    await writeFile(path, data);
    const r = await runCli(['verify', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(vol.entry);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fatchart:'))).toHaveLength(1);
  });
});

describe('truncated bundles', () => {
  it('are refused by unpack with nothing written to --out', async () => {
    for (const fraction of [0.1, 0.5, 0.9, 0.999]) {
      const path = join(work, `truncated-${fraction}.fatchart`);
      await writeFile(path, original.subarray(0, Math.floor(original.length * fraction)));
      const out = join(work, `out-${fraction}`);
      const r = await runCli(['unpack', path, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/truncated|ends/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a corrupt volume discovered mid-restore leaves no --out and no staging folder', async () => {
    const reader = await BundleReader.open(bundle);
    const vol = reader.manifest.volumes[0]!;
    const info = reader.entries.get(vol.entry)!;
    const data = Buffer.from(original);
    data[info.offset + info.size - 5]! ^= 0xff;
    const path = join(work, 'late-corrupt.fatchart');
    await writeFile(path, data);
    const out = join(work, 'late-out');
    const r = await runCli(['unpack', path, '--out', out]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    const leftovers = (await import('node:fs/promises')).readdir(work);
    expect((await leftovers).filter((n) => n.includes('staging'))).toEqual([]);
  });
});
