import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/actions/verify.js';
import { packDirectory } from '../../src/bundle/tar-pack.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { FatchartError } from '../../src/errors.js';
import type { AppModel } from '../../src/model/app.js';
import type { VolumeSource } from '../../src/model/volume.js';
import { quietContext } from '../../src/util/context.js';
import { ensureExampleData, examplesDir } from '../support/examples.js';

/** A source stream that breaks after `after` bytes: what a dropped exec or engine connection looks like. */
function breaking(inner: Readable, after: number): Readable {
  let seen = 0;
  const out = new Readable({ read() {} });
  inner.on('data', (c: Buffer) => {
    if (seen + c.length > after) {
      out.push(c.subarray(0, after - seen));
      out.destroy(new Error('connection reset by peer'));
      inner.destroy();
      return;
    }
    seen += c.length;
    out.push(c);
  });
  inner.on('end', () => out.push(null));
  return out;
}

const dir = () => join(examplesDir, 'shop', 'data', 'db-data');
const model: AppModel = {
  app: { name: 'retry' },
  source: { platform: 'manifests' },
  objects: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'db-data' }, spec: {} }],
  originals: [],
  losses: [],
};
let work: string;
beforeAll(async () => {
  ensureExampleData();
  work = await mkdtemp(join(tmpdir(), 'fatchart-retry-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const write = (out: string, volume: VolumeSource, retries = 2) =>
  writeBundle({ out, model, volumes: [volume], created: new Date(0), toolVersion: 'test', retries }, quietContext());

describe('a volume stream that breaks', () => {
  it('is retried from the start, and the bundle is byte-identical to an unbroken pack', async () => {
    const clean = join(work, 'clean.fatchart');
    await write(clean, { name: 'db-data', consistency: 'offline', open: async () => packDirectory(dir()) });
    let opens = 0;
    const retried = join(work, 'retried.fatchart');
    await write(retried, {
      name: 'db-data',
      consistency: 'offline',
      open: async () => (++opens < 3 ? breaking(packDirectory(dir()), 1_500_000 * opens) : packDirectory(dir())),
    });
    expect(opens).toBe(3);
    expect((await readFile(retried)).equals(await readFile(clean))).toBe(true);
    await verify(retried, { deep: true }, quietContext());
  });

  it('gives up after the allowed attempts, naming the volume, and leaves no file', async () => {
    const out = join(work, 'broken.fatchart');
    const err = await write(out, { name: 'db-data', consistency: 'offline', open: async () => breaking(packDirectory(dir()), 100_000) }, 1).catch((e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.message).toMatch(/volume db-data: could not read the volume: connection reset by peer/);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});
