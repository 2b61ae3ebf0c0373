/**
 * Assembles checkpoint archives the way Podman, CRI-O and checkpointctl's own tests do, from the
 * real metadata files and the real CRIU image set in ../shared/fixtures/checkpoint.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { create as createTar } from 'tar';
import { CompressStream } from 'zstd-napi';

export const fixtureRoot = resolve(import.meta.dirname, '../../../shared/fixtures/checkpoint');
export const ctlData = join(fixtureRoot, 'checkpointctl-testdata');
export const criuImages = join(fixtureRoot, 'criu-bare-aarch64-loop2');
export const haveFixtures = () => (existsSync(ctlData) && existsSync(criuImages) ? undefined : `${fixtureRoot} is absent`);

export type Flavour = 'cri-o' | 'podman' | 'bare';

/** Copies only CRIU's binary images (`*.img`, `stats-dump`), not the fixture's JSON decodes. */
async function copyImages(to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const f of await readdir(criuImages)) {
    if (f.endsWith('.img') || f === 'stats-dump') await cp(join(criuImages, f), join(to, f));
  }
}

export async function buildArchive(flavour: Flavour, compression: 'gzip' | 'zstd' | 'none'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `fatchart-cp-${flavour}-`));
  const root = join(dir, 'root');
  await mkdir(root);
  if (flavour === 'bare') {
    await copyImages(root);
  } else {
    await copyImages(join(root, 'checkpoint'));
    if (flavour === 'cri-o') {
      await cp(join(ctlData, 'list_config_spec.dump/config.dump'), join(root, 'config.dump'));
      await cp(join(ctlData, 'list_config_spec.dump/spec.dump'), join(root, 'spec.dump'));
    } else {
      await cp(join(ctlData, 'config.dump'), join(root, 'config.dump'));
      await cp(join(ctlData, 'spec.dump'), join(root, 'spec.dump'));
      await cp(join(ctlData, 'network.status'), join(root, 'network.status'));
      await writeFile(join(root, 'hello.txt'), 'changed file\n');
      await createTar({ cwd: root, file: join(root, 'rootfs-diff.tar') }, ['hello.txt']);
    }
  }
  const entries = (await readdir(root)).sort();
  const out = join(dir, `archive${compression === 'gzip' ? '.tar.gz' : compression === 'zstd' ? '.tar.zst' : '.tar'}`);
  const tar = createTar({ cwd: root, portable: true }, entries);
  if (compression === 'none') await pipeline(tar, createWriteStream(out));
  else await pipeline(tar, compression === 'gzip' ? createGzip() : new CompressStream(), createWriteStream(out));
  return out;
}
