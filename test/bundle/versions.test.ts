import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTrees } from '../../src/actions/roundtrip.js';
import { verify } from '../../src/actions/verify.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { packDirectory } from '../../src/bundle/tar-pack.js';
import { indexTar, type IndexRecord } from '../../src/bundle/volume-index.js';
import { FatchartError } from '../../src/errors.js';
import { quietContext } from '../../src/util/context.js';
import { projectRoot, runCli } from '../support/cli.js';
import { withManifest } from '../support/craft.js';

const goldenRoot = join(projectRoot, 'bundles', 'golden');
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-versions-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const goldens = [{ version: '1.0', bundle: join(goldenRoot, 'v1.0', 'notes.fatchart'), expected: join(goldenRoot, 'v1.0', 'notes.expected.json') }];

describe('every released format version stays restorable', () => {
  for (const g of goldens) {
    it(`golden ${g.version}: identity, deep verify and a restore that matches the recorded files`, async () => {
      const expected = JSON.parse(await readFile(g.expected, 'utf8'));
      const reader = await BundleReader.open(g.bundle);
      expect(reader.identity).toBe(expected.identity);
      expect(reader.manifest.formatVersion).toBe(g.version);
      expect(reader.manifest.objects.map((o) => `${o.kind}/${o.name}`)).toEqual(expected.objects);
      await verify(g.bundle, { deep: true }, quietContext());

      const out = join(work, `golden-${g.version}`);
      const r = await runCli(['unpack', g.bundle, '--out', out]);
      expect(r.stderr).not.toMatch(/warning|error/i);
      expect(r.code).toBe(0);
      for (const [volume, records] of Object.entries(expected.volumes as Record<string, IndexRecord[]>)) {
        const restored: IndexRecord[] = [];
        await indexTar(packDirectory(join(out, 'data', volume)), (rec) => {
          restored.push(rec);
        });
        // Owners are restored only when unpacking as root (as with GNU tar).
        const strip = (x: IndexRecord) => (process.getuid?.() === 0 ? x : { ...x, uid: 0, gid: 0 });
        expect(restored.map(strip)).toEqual(records.map(strip));
      }
    });
  }
});

describe('versioning rules', () => {
  const golden = goldens[0]!.bundle;

  it('accepts a newer minor of its major', async () => {
    const path = join(work, 'minor.fatchart');
    await withManifest(golden, path, (m) => (m.formatVersion = '1.9'));
    const reader = await BundleReader.open(path);
    expect(reader.manifest.formatVersion).toBe('1.9');
    const out = join(work, 'minor-out');
    expect((await runCli(['unpack', path, '--out', out])).code).toBe(0);
    expect(await compareTrees(join(work, 'golden-1.0', 'data', 'notes-data'), join(out, 'data', 'notes-data'), 'notes')).toBeUndefined();
  });

  it('refuses a newer major with a message saying so, exit code 4', async () => {
    const path = join(work, 'major.fatchart');
    await withManifest(golden, path, (m) => {
      m.formatVersion = '2.0';
      m.someFutureField = { unknown: true };
    });
    await expect(BundleReader.open(path)).rejects.toThrow(/format version 2\.0 is newer than this fatchart reads \(1\.x\)/);
    const r = await runCli(['verify', path]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/upgrade fatchart/);
  });

  it('refuses a manifest that fails its schema, naming the field', async () => {
    const path = join(work, 'schema.fatchart');
    await withManifest(golden, path, (m) => {
      m.plan.files = -1;
    });
    const err = await BundleReader.open(path).catch((e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.message).toMatch(/fails its schema at \/plan\/files/);
  });
});
