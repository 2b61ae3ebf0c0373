/**
 * A named volume with awkward contents goes out of one volume as a tar stream (the VolumeSource a
 * bundle is written from) and into a new volume on the same real engine; the new volume holds the
 * same bytes, modes, owners, mtimes and links — checked by our verifier against the index and,
 * independently, by busybox's own listing inside containers.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/bundle/digest.js';
import { indexTar, type IndexRecord } from '../../src/bundle/volume-index.js';
import { engineClient, type Engine } from '../../src/platforms/compose/engine/client.js';
import { EngineJournal } from '../../src/platforms/compose/engine/journal.js';
import { createVolume, fillVolume } from '../../src/platforms/compose/engine/restore.js';
import { verifyVolume } from '../../src/platforms/compose/engine/verify.js';
import { namedVolumeSource } from '../../src/platforms/compose/engine/volume-source.js';
import { rebaseTar } from '../../src/platforms/compose/engine/rebase.js';
import { encodeHeader, ZERO_BLOCK } from '../../src/bundle/tar-header.js';
import { HELPER_LABEL } from '../../src/platforms/compose/engine/labels.js';
import { dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { listingScript, runScript, uniqueName } from './engine-helpers.js';

const haveDocker = await needs('Docker Engine', dockerProbe);

const LONG = `${'deep/'.repeat(25)}file-with-a-path-longer-than-one-hundred-bytes.txt`;
const seedScript = `cd /v
mkdir -p empty/nested dir "${LONG.slice(0, LONG.lastIndexOf('/'))}"
head -c 300000 /dev/urandom > dir/random.bin
: > empty-file
printf 'h\\303\\251llo' > 'ünïcødé-名前.txt'
printf 'long' > "${LONG}"
ln -s dir/random.bin link-to-random
ln -s /does/not/exist dangling
ln dir/random.bin hard-link.bin
printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 755 run.sh
echo secret > private && chmod 600 private
echo owned > owned && chown 1234:5678 owned
touch -d '2001-02-03 04:05:06' dir/random.bin empty-file
touch -h -d '2002-03-04 05:06:07' link-to-random
chmod 1777 empty/nested
chown 999:999 . && chmod 750 .
`;

describe('re-rooting a volume tar for the engine', () => {
  const tarOf = (...entries: Buffer[]) => Readable.from([Buffer.concat([...entries, ZERO_BLOCK, ZERO_BLOCK])]);
  const dir = (path: string, mode = 0o755) => encodeHeader({ path, type: 'Directory', size: 0, mode, mtime: 1, uid: 0, gid: 0 });

  it('puts every entry, the root included, under the mount point and strips special bits', async () => {
    const out: IndexRecord[] = [];
    await indexTar(rebaseTar(tarOf(dir('./', 0o1777), dir('./a/', 0o4755)), '/fatchart-volume'), (r) => void out.push(r));
    expect(out.map((r) => [r.path, r.mode.toString(8)])).toEqual([
      ['fatchart-volume', '777'],
      ['fatchart-volume/a', '755'],
    ]);
  });

  it('refuses paths that leave the volume', async () => {
    const consume = async () => {
      for await (const _ of rebaseTar(tarOf(dir('./'), dir('../escape/')), 'v'));
    };
    await expect(consume()).rejects.toMatchObject({ code: 'unsafe' });
  });
});

describe.skipIf(!haveDocker)('named volume → tar → new volume on a real Docker Engine', () => {
  let docker: DockerComponent;
  let engine: Engine;
  const source = uniqueName('fct-src');
  const journal = { current: undefined as EngineJournal | undefined };

  beforeAll(async () => {
    docker = await startDocker();
    engine = engineClient(docker.host);
    await engine.createVolume({ Name: source });
    await runScript(engine, docker.image, [`${source}:/v`], seedScript);
  });

  afterAll(async () => {
    await journal.current?.rollback();
    await engine?.getVolume(source).remove().catch(() => {});
  });

  async function capture(): Promise<{ tar: Buffer; index: IndexRecord[] }> {
    const src = namedVolumeSource(engine, { name: 'data', volume: source, consistency: 'offline' });
    const chunks: Buffer[] = [];
    for await (const chunk of await src.open()) chunks.push(chunk as Buffer);
    const tar = Buffer.concat(chunks);
    const index: IndexRecord[] = [];
    await indexTar(Readable.from([tar]), (r) => void index.push(r));
    return { tar, index };
  }

  it('streams the volume with every kind of entry, relative to the volume root', async () => {
    const { index } = await capture();
    const byPath = new Map(index.map((r) => [r.path, r]));
    expect(byPath.get('.')).toMatchObject({ type: 'dir', mode: 0o750, uid: 999, gid: 999 });
    expect(byPath.get('dir/random.bin')).toMatchObject({ type: 'file', size: 300000, mtime: Date.UTC(2001, 1, 3, 4, 5, 6) / 1000 });
    expect(byPath.get('empty-file')).toMatchObject({ type: 'file', size: 0 });
    expect(byPath.get('empty/nested')).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(byPath.get('ünïcødé-名前.txt')).toMatchObject({ type: 'file', size: 6, sha256: sha256Hex(Buffer.from('héllo')) });
    expect(byPath.get(LONG)).toMatchObject({ type: 'file', size: 4 });
    expect(byPath.get('link-to-random')).toMatchObject({ type: 'symlink', linkname: 'dir/random.bin' });
    expect(byPath.get('dangling')).toMatchObject({ type: 'symlink', linkname: '/does/not/exist' });
    expect(byPath.get('hard-link.bin')?.type === 'hardlink' || byPath.get('dir/random.bin')?.type === 'hardlink').toBe(true);
    expect(byPath.get('run.sh')?.mode).toBe(0o755);
    expect(byPath.get('private')?.mode).toBe(0o600);
    expect(byPath.get('owned')).toMatchObject({ uid: 1234, gid: 5678 });
    // No helper container outlives its stream.
    const helpers = await engine.listContainers({ all: true, filters: { label: [HELPER_LABEL] } });
    expect(helpers.filter((h) => h.Labels[HELPER_LABEL] === source)).toEqual([]);
  });

  it('gives the same stream on every open() (a retry starts from the beginning)', async () => {
    const a = await capture();
    const b = await capture();
    expect(b.index).toEqual(a.index);
  });

  it('restores into a new volume with equal digests, modes, owners, mtimes and links', async () => {
    const { tar, index } = await capture();
    const target = uniqueName('fct-dst');
    journal.current = new EngineJournal(engine);
    await createVolume(engine, journal.current, { name: target });
    await fillVolume(engine, target, Readable.from([tar]), { labels: journal.current.labels, preservePerms: true });

    const verified = await verifyVolume(engine, target, index, { preservePerms: true });
    expect(verified.files).toBe(index.filter((r) => r.type === 'file').length);
    expect(verified.bytes).toBe(300000 + Buffer.byteLength('héllo') + 4 + 'secret\n'.length + 'owned\n'.length + '#!/bin/sh\necho hi\n'.length);

    // Independent check by busybox itself, inside containers, on both volumes.
    const before = await runScript(engine, docker.image, [`${source}:/v:ro`], listingScript('/v'));
    const after = await runScript(engine, docker.image, [`${target}:/v:ro`], listingScript('/v'));
    expect(after).toBe(before);
    expect(before).toContain('./dir/random.bin file 644 0:0 300000 981173106 2');
  });

  it('fails verification when the restored data differs from the index', async () => {
    const { index } = await capture();
    const target = uniqueName('fct-dst');
    await createVolume(engine, journal.current!, { name: target });
    const { tar } = await capture();
    await fillVolume(engine, target, Readable.from([tar]));
    await runScript(engine, docker.image, [`${target}:/v`], 'echo changed > /v/empty-file; touch /v/extra');
    await expect(verifyVolume(engine, target, index)).rejects.toThrow(/empty-file: size is 8, the index says 0.*extra: not in the bundle index/);
    // Without preservePerms the sticky bit was stripped on purpose; with it, that is a difference.
    await expect(verifyVolume(engine, target, index, { preservePerms: true })).rejects.toThrow(/empty\/nested: mode is 511, the index says 1023/);
    const edited = index.map((r) => (r.path === 'private' ? { ...r, sha256: '0'.repeat(64) } : r));
    await expect(verifyVolume(engine, target, edited)).rejects.toMatchObject({ code: 'verification' });
  });

  it('refuses to reuse an existing volume and rolls back only what it created', async () => {
    const j = new EngineJournal(engine);
    await expect(createVolume(engine, j, { name: source })).rejects.toMatchObject({ code: 'preflight' });
    const created = uniqueName('fct-rb');
    await createVolume(engine, j, { name: created });
    expect(await j.rollback()).toEqual([]);
    await expect(engine.getVolume(created).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(engine.getVolume(source).inspect()).resolves.toBeTruthy();
  });
});
