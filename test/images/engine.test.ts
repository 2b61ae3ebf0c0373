/**
 * Images from and into the real Docker Engine (the shared test daemon): pack by `docker save`,
 * unpack by `docker load`, each cross-checked (skopeo reads the packed layout; a loaded image runs).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FatchartError } from '../../src/errors.js';
import { engineImageSlot, loadImagesIntoEngine } from '../../src/images/engine.js';
import { folderLayout } from '../../src/images/layout.js';
import { commandProbe, needs } from '../support/require.js';
import { dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { BUSYBOX, buildTestLayout, skopeo, type BuiltLayout } from './build.js';

const ready = await needs(
  'image engine tests',
  commandProbe('skopeo', ['--version']),
  () => (existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (Debian busybox-static)`),
  dockerProbe,
);

/** Unique per run, removed at teardown: the daemon is shared with other test files. */
const loadedTag = (name: string) => `fatchart-images-test/${name}:${process.pid}`;
const LOADED = loadedTag('app-a');

describe.skipIf(!ready)('images and the local Docker Engine', () => {
  let component: DockerComponent;
  let docker: Docker;
  let built: BuiltLayout;
  let work: string;

  beforeAll(async () => {
    component = await startDocker();
    docker = new Docker({ socketPath: component.socketPath });
    built = buildTestLayout();
    work = mkdtempSync(join(tmpdir(), 'fatchart-images-engine-'));
  });

  afterAll(async () => {
    for (const name of ['app-a', 'app-b', 'multi']) await docker?.getImage(loadedTag(name)).remove({ force: true }).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    if (built) await rm(dirname(built.dir), { recursive: true, force: true });
  });

  it('packs an engine image as an OCI image skopeo reads, its layers being the config’s diff IDs', async () => {
    const slot = await engineImageSlot(docker, [component.image], { workDir: work });
    try {
      for (const e of slot.entries) {
        const file = join(work, 'engine-slot', e.entry);
        await mkdir(dirname(file), { recursive: true });
        await pipeline(await e.open(), createWriteStream(file));
      }
    } finally {
      await slot.release();
    }
    const [image] = slot.refs;
    expect(image.ref).toBe(`docker.io/${component.image}`);
    const info = JSON.parse(skopeo('inspect', `oci:${join(work, 'engine-slot', 'images')}:${image.ref}`));
    expect(info.Digest).toBe(image.digest);
    const engineInfo = await docker.getImage(component.image).inspect();
    expect(info.Layers).toEqual(engineInfo.RootFS.Layers);
    const config = JSON.parse(skopeo('inspect', '--config', `oci:${join(work, 'engine-slot', 'images')}:${image.ref}`));
    expect(config.rootfs.diff_ids).toEqual(engineInfo.RootFS.Layers);
    expect(readFileSync(join(work, 'engine-slot', 'images', 'oci-layout'), 'utf8')).toContain('1.0.0');
  });

  it('loads a layout into the engine, where the image runs, and packs back to the same config', async () => {
    const map = await loadImagesIntoEngine(await folderLayout(built.dir), docker, { tag: loadedTag });
    expect(map.get('docker.io/library/app-a:latest')).toBe(LOADED);
    // The multi-arch index loads as its linux/amd64 image.
    expect((await docker.getImage(loadedTag('multi')).inspect()).Architecture).toBe('amd64');
    const out = execFileSync('docker', ['run', '--rm', '--network', 'none', LOADED, 'cat', '/etc/app-a.txt'], { env: component.env, encoding: 'utf8' });
    expect(out).toBe('app a\n');
    const appA = JSON.parse(readFileSync(join(built.dir, 'blobs/sha256', built.names['app-a'].slice(7)), 'utf8'));
    const back = await engineImageSlot(docker, [LOADED], { workDir: work });
    await back.release();
    const config = back.entries.find((e) => e.entry.endsWith(appA.config.digest.slice(7)));
    expect(config, 'the engine keeps the config bytes, so the image ID survives the round trip').toBeDefined();
  });

  it('loads nothing from a layout with a corrupted blob', async () => {
    const corrupt = join(work, 'corrupt');
    cpSync(built.dir, corrupt, { recursive: true });
    const victim = join(corrupt, 'blobs/sha256', built.sharedLayer.slice(7));
    const bytes = readFileSync(victim);
    bytes[100] ^= 0xff;
    writeFileSync(victim, bytes);
    const tag = `fatchart-images-test/corrupt:${process.pid}`;
    const err = await loadImagesIntoEngine(await folderLayout(corrupt), docker, { tag: () => tag }).catch((e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.code).toBe('verification');
    await expect(docker.getImage(tag).inspect()).rejects.toThrow(/no such image/i);
  });
});
