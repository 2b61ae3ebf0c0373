import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleApps, roundTrip } from '../../src/actions/roundtrip.js';
import { pack } from '../../src/actions/pack.js';
import { quietContext } from '../../src/util/context.js';
import { ensureExampleData, examplesDir } from '../support/examples.js';

const created = new Date('2026-11-01T00:00:00Z');
let work: string;

beforeAll(async () => {
  ensureExampleData();
  work = await mkdtemp(join(tmpdir(), 'fatchart-test-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('round trip of every example', async () => {
  const apps = await exampleApps(examplesDir);
  it('has the two required examples', () => expect(apps.map((a) => a.split('/').pop())).toEqual(['notes', 'shop']));

  for (const app of apps) {
    it(`${app.split('/').pop()}: restores byte-identical data and packs again to the same identity`, async () => {
      const r = await roundTrip(app, join(work, `${app.split('/').pop()}.fatchart`), created, quietContext());
      expect(r.difference).toBeUndefined();
      expect(r.digestsEqual).toBe(true);
      expect(r.identityStable).toBe(true);
      expect(r.files).toBeGreaterThan(0);
    });
  }
});

describe('determinism', () => {
  it('packing the same input twice with the same creation time gives byte-identical archives', async () => {
    const a = join(work, 'a.fatchart');
    const b = join(work, 'b.fatchart');
    await pack({ source: 'manifests', location: join(examplesDir, 'shop'), out: a, created }, quietContext());
    await pack({ source: 'manifests', location: join(examplesDir, 'shop'), out: b, created }, quietContext());
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it('a different creation time changes the identity (it is recorded)', async () => {
    const a = await pack({ source: 'manifests', location: join(examplesDir, 'notes'), out: join(work, 'n1.fatchart'), created }, quietContext());
    const b = await pack({ source: 'manifests', location: join(examplesDir, 'notes'), out: join(work, 'n2.fatchart'), created: new Date('2026-11-02T00:00:00Z') }, quietContext());
    expect(a.identity).not.toBe(b.identity);
  });
});
