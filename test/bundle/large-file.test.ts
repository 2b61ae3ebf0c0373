import { open, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../../src/actions/pack.js';
import { unpack } from '../../src/actions/unpack.js';
import { quietContext } from '../../src/util/context.js';

/**
 * A file over 8 GiB overflows the ustar size field (11 octal digits) and needs a pax record in
 * the volume tar; it is created sparse so the test costs time (reading zeros), not disk.
 */
const SIZE = 8 * 1024 ** 3 + 4097;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-large-'));
  const app = join(work, 'app');
  await mkdir(join(app, 'data', 'big'), { recursive: true });
  await writeFile(join(app, 'claim.yaml'), 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: big }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 10Gi } } }\n');
  const h = await open(join(app, 'data', 'big', 'disk.img'), 'w');
  await h.write(Buffer.from('head of the file\n'), 0, 17, 0);
  await h.write(Buffer.from('in the middle\n'), 0, 14, 4 * 1024 ** 3);
  await h.write(Buffer.from('tail\n'), 0, 5, SIZE - 5);
  await h.close();
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('large sparse files', () => {
  it('a file over 8 GiB survives pack → unpack with its digest, and stays sparse', async () => {
    const bundle = join(work, 'big.fatchart');
    const packed = await pack({ source: 'manifests', location: join(work, 'app'), out: bundle, created: new Date(0) }, quietContext());
    expect(packed.manifest.plan.dataBytes).toBe(SIZE);
    // zstd turns 8 GiB of zeros into a few hundred KiB.
    expect(packed.bytes).toBeLessThan(2 * 1024 ** 2);

    const out = join(work, 'out');
    await unpack(bundle, { target: 'manifests', out }, quietContext());
    const restored = join(out, 'data', 'big', 'disk.img');
    const st = await stat(restored);
    expect(st.size).toBe(SIZE);
    expect(st.blocks * 512).toBeLessThan(64 * 1024 ** 2);
    // unpack has already re-hashed the file against the index digest taken from the source;
    // spot-check the three written regions and the mtime independently.
    const h = await open(restored, 'r');
    const at = async (pos: number, n: number) => (await h.read(Buffer.alloc(n), 0, n, pos)).buffer.toString();
    expect(await at(0, 17)).toBe('head of the file\n');
    expect(await at(4 * 1024 ** 3, 14)).toBe('in the middle\n');
    expect(await at(SIZE - 5, 5)).toBe('tail\n');
    await h.close();
    expect(st.mtimeMs).toBe(Math.floor((await stat(join(work, 'app', 'data', 'big', 'disk.img'))).mtimeMs / 1000) * 1000);
  }, 600_000);
});
