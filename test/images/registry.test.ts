/**
 * Pack and unpack of images against REAL registries (Debian's docker-registry on 127.0.0.1),
 * cross-checked with Debian's skopeo so the layout is proven standard, not only self-consistent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync, cpSync, mkdtempSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FatchartError } from '../../src/errors.js';
import { RegistryClient } from '../../src/images/client.js';
import { staticCredentials } from '../../src/images/credentials.js';
import { verified } from '../../src/images/digest.js';
import { exportLayout, folderLayout } from '../../src/images/layout.js';
import { resolveImageSlot } from '../../src/images/pull.js';
import type { ImageSlot } from '../../src/images/slot.js';
import { pushImagesWithStats } from '../../src/images/push.js';
import { commandProbe, needs } from '../support/require.js';
import {
  htpasswdProbe,
  registryProbes,
  startCountingProxy,
  startRegistry,
  startTokenServer,
  type CountingProxy,
  type RegistryInstance,
  type TokenServer,
} from '../support/components/registry.js';
import { BUSYBOX, buildTestLayout, skopeo, skopeoCopyToRegistry, type BuiltLayout } from './build.js';

const ready = await needs(
  'image registry tests',
  ...registryProbes,
  htpasswdProbe,
  commandProbe('skopeo', ['--version']),
  () => (existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (Debian busybox-static)`),
);

const USER = { username: 'packer', password: 'pack-secret' };
const NAMES = ['app-a', 'app-b', 'multi'];

/** Writes each slot entry to `root/<path>` by streaming its open(), as the bundle writer would. */
async function writeSlot(slot: ImageSlot, root: string): Promise<void> {
  for (const e of slot.entries) {
    const file = join(root, e.entry);
    await mkdir(dirname(file), { recursive: true });
    await pipeline(await e.open(), createWriteStream(file));
  }
}

const blobUploads = (p: CountingProxy) => p.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.path.includes('/blobs/'));

async function expectFatchart(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FatchartError);
  expect((err as FatchartError).code).toBe(code);
  expect((err as Error).message).toMatch(pattern);
}

describe.skipIf(!ready)('images against real registries', () => {
  let built: BuiltLayout;
  let source: RegistryInstance;
  let secured: RegistryInstance;
  let target: RegistryInstance;
  let work: string;
  let slot: ImageSlot;
  const refs: string[] = [];

  beforeAll(async () => {
    built = buildTestLayout();
    work = mkdtempSync(join(tmpdir(), 'fatchart-images-test-'));
    [source, secured, target] = await Promise.all([startRegistry(), startRegistry({ auth: USER }), startRegistry()]);
    for (const name of NAMES) {
      skopeoCopyToRegistry(built.dir, name, `${source.host}/test/${name}:1.0`);
      refs.push(`${source.host}/test/${name}:1.0`);
    }
    skopeoCopyToRegistry(built.dir, 'app-a', `${secured.host}/private/app-a:2`, `${USER.username}:${USER.password}`);
    slot = await resolveImageSlot(refs);
    await writeSlot(slot, join(work, 'bundle'));
  });

  afterAll(async () => {
    await Promise.all([source, secured, target].filter(Boolean).map((r) => r.stop()));
    if (work) await rm(work, { recursive: true, force: true });
    if (built) await rm(dirname(built.dir), { recursive: true, force: true });
  });

  it('resolves tags to digests, picking linux/amd64 out of the multi-arch index', () => {
    const multiIndex = JSON.parse(readFileSync(join(built.dir, 'blobs/sha256', built.names.multi.slice(7)), 'utf8'));
    expect(slot.refs.map((i) => [i.ref, i.digest, i.platform])).toEqual([
      [refs[0], built.names['app-a'], 'linux/amd64'],
      [refs[1], built.names['app-b'], 'linux/amd64'],
      [refs[2], multiIndex.manifests[0].digest, 'linux/amd64'],
    ]);
    for (const image of slot.refs) expect(slot.entries.map((e) => e.entry)).toContain(`images/blobs/sha256/${image.digest.slice(7)}`);
  });

  it('stores the layer shared by three images once, and every entry matches its declared size and sha256', () => {
    const paths = slot.entries.map((e) => e.entry);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.filter((p) => p === `images/blobs/sha256/${built.sharedLayer.slice(7)}`)).toHaveLength(1);
    // 3 manifests + 3 configs + busybox + 1 (a) + 2 (b) + 1 (multi amd64) layers, plus oci-layout and index.json.
    expect(paths).toHaveLength(3 + 3 + 5 + 2);
    expect(paths[0]).toBe('images/oci-layout');
    expect(paths.at(-1)).toBe('images/index.json');
    for (const e of slot.entries) {
      const bytes = readFileSync(join(work, 'bundle', e.entry));
      expect(bytes.length, e.entry).toBe(e.size);
      expect(e.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('writes a layout skopeo reads: every image inspects with the packed digest and layers', () => {
    const layoutDir = join(work, 'bundle', 'images');
    for (const image of slot.refs) {
      const info = JSON.parse(skopeo('inspect', `oci:${layoutDir}:${image.ref}`));
      expect(info.Digest).toBe(image.digest);
      expect(info.Architecture).toBe('amd64');
      expect(info.Layers).toContain(built.sharedLayer);
    }
  });

  it('picks another platform from the index when asked, and refuses one the index lacks', async () => {
    const arm = await resolveImageSlot([refs[2]], { platform: 'linux/arm64' });
    const index = JSON.parse(readFileSync(join(built.dir, 'blobs/sha256', built.names.multi.slice(7)), 'utf8'));
    expect(arm.refs[0]).toMatchObject({ digest: index.manifests[1].digest, platform: 'linux/arm64/v8' });
    await expectFatchart(resolveImageSlot([refs[2]], { platform: 'linux/s390x' }), 'platform', /no linux\/s390x image.*linux\/amd64, linux\/arm64\/v8/);
    await expectFatchart(resolveImageSlot([refs[0]], { platform: 'linux/arm64' }), 'platform', /image is linux\/amd64, not linux\/arm64/);
  });

  it('pulls from a registry behind basic auth with credentials, and says so without them', async () => {
    const ref = `${secured.host}/private/app-a:2`;
    const pulled = await resolveImageSlot([ref], { credentials: staticCredentials(secured.host, USER) });
    expect(pulled.refs[0].digest).toBe(built.names['app-a']);
    await expectFatchart(resolveImageSlot([ref]), 'platform', /asks for a login and no credentials/);
    await expectFatchart(
      resolveImageSlot([ref], { credentials: staticCredentials(secured.host, { username: 'packer', password: 'wrong' }) }),
      'platform',
      /401/,
    );
  });

  it('pushes everything by digest; skopeo finds each image there byte-identical; a second push uploads 0 blobs', async () => {
    const proxy = await startCountingProxy(target.host);
    try {
      const layout = await folderLayout(join(work, 'bundle', 'images'));
      const first = await pushImagesWithStats(layout, `${proxy.host}/mirror`);
      // 8 distinct blobs cross the wire once; the busybox layer is mounted into the 2 other repositories.
      expect(first.stats).toMatchObject({ uploaded: 3 + 5, mounted: 2, present: 0 });
      expect(blobUploads(proxy).filter((r) => r.method === 'PUT')).toHaveLength(8);
      for (const image of slot.refs) {
        const pushed = first.map.get(image.ref)!;
        expect(pushed).toBe(`${proxy.host}/mirror/${image.ref.split('/').slice(1).join('/').replace(/:1\.0$/, '')}@${image.digest}`);
        const direct = pushed.replace(proxy.host, target.host);
        const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${direct}`);
        expect(raw).toBe(readFileSync(join(work, 'bundle', `images/blobs/sha256/${image.digest.slice(7)}`), 'utf8'));
        const byTag = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${direct.replace(/@.*/, ':1.0')}`));
        expect(byTag.Digest).toBe(image.digest);
      }
      // A full pull back through skopeo proves every blob arrived intact, not only the manifests.
      const back = join(work, 'pulled-back');
      skopeo('copy', '--src-tls-verify=false', `docker://${first.map.get(refs[1])!.replace(proxy.host, target.host)}`, `oci:${back}:b`);
      expect(JSON.parse(skopeo('inspect', `oci:${back}:b`)).Layers).toContain(built.sharedLayer);

      proxy.requests.length = 0;
      const second = await pushImagesWithStats(layout, `${proxy.host}/mirror`);
      expect(second.stats).toMatchObject({ uploaded: 0, mounted: 0, present: 10 });
      expect(blobUploads(proxy)).toEqual([]);
      expect(second.map).toEqual(first.map);
    } finally {
      await proxy.stop();
    }
  });

  it('uploads in PATCH chunks when asked, to a registry behind basic auth', async () => {
    const proxy = await startCountingProxy(secured.host);
    try {
      const layout = await folderLayout(join(work, 'bundle', 'images'));
      const busyboxSize = statSync(join(work, 'bundle', 'images', 'blobs/sha256', built.sharedLayer.slice(7))).size;
      const chunkSize = 256 * 1024;
      const { map, stats } = await pushImagesWithStats(layout, `${proxy.host}/chunked`, {
        chunkSize,
        credentials: staticCredentials(proxy.host, USER),
      });
      expect(stats).toMatchObject({ uploaded: 8, mounted: 2 });
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      expect(patches.length).toBeGreaterThanOrEqual(Math.ceil(busyboxSize / chunkSize));
      const pushed = map.get(refs[0])!.replace(proxy.host, secured.host);
      const info = JSON.parse(skopeo('inspect', '--tls-verify=false', '--creds', `${USER.username}:${USER.password}`, `docker://${pushed}`));
      expect(info.Layers).toContain(built.sharedLayer);
      await expectFatchart(pushImagesWithStats(layout, `${proxy.host}/nocreds`), 'platform', /asks for a login/);
    } finally {
      await proxy.stop();
    }
  });

  it('catches a corrupted blob before sending the target a single request', async () => {
    const corrupt = join(work, 'corrupt');
    cpSync(join(work, 'bundle', 'images'), corrupt, { recursive: true });
    const victim = join(corrupt, 'blobs/sha256', built.sharedLayer.slice(7));
    const bytes = readFileSync(victim);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(victim, bytes);
    const proxy = await startCountingProxy(target.host);
    try {
      await expectFatchart(pushImagesWithStats(await folderLayout(corrupt), `${proxy.host}/corrupt`), 'verification', new RegExp(`blob ${built.sharedLayer}: content is sha256:`));
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('aborts an upload whose bytes turn bad mid-stream, with a verification error, and stores nothing', async () => {
    // pushImages verifies before pushing; this covers a blob changing between that check and the upload.
    const client = new RegistryClient(target.host);
    const good = randomBytes(3 << 20);
    const digest = `sha256:${createHash('sha256').update(good).digest('hex')}`;
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    const err = await client
      .uploadBlob('midstream/test', digest, bad.length, async () => verified(Readable.from([bad.subarray(0, 1 << 20), bad.subarray(1 << 20)]), digest, bad.length, 'blob under test'))
      .catch((e) => e);
    expect(err).toBeInstanceOf(FatchartError);
    expect(err.code).toBe('verification');
    expect(await client.blobExists('midstream/test', digest)).toBe(false);
  });

  it('exports the layout to a folder skopeo copies from, and leaves nothing behind on a bad blob', async () => {
    const out = join(work, 'export');
    const result = await exportLayout(await folderLayout(join(work, 'bundle', 'images')), out);
    expect(result.blobs).toBe(3 + 3 + 5);
    expect(readdirSync(out).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    skopeoCopyToRegistry(out, refs[1], `${target.host}/exported/app-b:1.0`);
    expect(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${target.host}/exported/app-b:1.0`)).Digest).toBe(built.names['app-b']);

    const failed = join(work, 'export-bad');
    await expectFatchart(exportLayout(await folderLayout(join(work, 'corrupt')), failed), 'verification', /content is/);
    expect(existsSync(failed)).toBe(false);
    expect(readdirSync(work).filter((n) => n.startsWith('export-bad'))).toEqual([]);
    await expectFatchart(exportLayout(await folderLayout(join(work, 'bundle', 'images')), out), 'usage', /not empty/);
  });

  it('fails the slot entry stream when the source registry serves bytes that do not match the manifest', async () => {
    // Runs last: it damages the source registry's stored copy of app-b's own top layer.
    const manifest = JSON.parse(readFileSync(join(built.dir, 'blobs/sha256', built.names['app-b'].slice(7)), 'utf8'));
    const layer: string = manifest.layers.at(-1).digest;
    const stored = join(source.storage, 'docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data');
    const bytes = readFileSync(stored);
    bytes[0] ^= 0xff;
    writeFileSync(stored, bytes);
    const fresh = await resolveImageSlot([refs[1]]);
    const entry = fresh.entries.find((e) => e.entry.endsWith(layer.slice(7)))!;
    await expectFatchart(pipeline(await entry.open(), createWriteStream(join(work, 'bad-layer'))), 'verification', /content is sha256:.*expected/);
  });
});

describe.skipIf(!ready || !(await needs('token auth test', commandProbe('openssl', ['version']))))('Bearer token auth against a real registry', () => {
  let built: BuiltLayout;
  let tokens: TokenServer;
  let registry: RegistryInstance;
  let plain: RegistryInstance;

  beforeAll(async () => {
    built = buildTestLayout();
    tokens = await startTokenServer(USER);
    [registry, plain] = await Promise.all([startRegistry({ token: tokens }), startRegistry()]);
    skopeoCopyToRegistry(built.dir, 'app-a', `${plain.host}/test/app-a:1.0`);
  });

  afterAll(async () => {
    await Promise.all([registry, plain].filter(Boolean).map((r) => r.stop()));
    await tokens?.stop();
    if (built) await rm(dirname(built.dir), { recursive: true, force: true });
  });

  it('fetches a repository-scoped token from the challenge realm and pushes and pulls with it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'fatchart-images-token-'));
    try {
      const slot = await resolveImageSlot([`${plain.host}/test/app-a:1.0`]);
      await writeSlot(slot, work);
      const credentials = staticCredentials(registry.host, USER);
      const { map, stats } = await pushImagesWithStats(await folderLayout(join(work, 'images')), `${registry.host}/secure`, { credentials });
      expect(stats.uploaded).toBe(3);
      expect(tokens.scopes).toContain('repository:secure/test/app-a:pull,push');
      const pulled = await resolveImageSlot([map.get(slot.refs[0].ref)!], { credentials });
      expect(pulled.refs[0].digest).toBe(built.names['app-a']);
      expect(tokens.scopes).toContain('repository:secure/test/app-a:pull');
      // The registry really checks tokens: a forged one is turned away.
      const forged = await fetch(`http://${registry.host}/v2/secure/test/app-a/manifests/1.0`, { headers: { authorization: 'Bearer e30.e30.AAAA' } });
      expect(forged.status).toBe(401);
      // No credentials: the token server refuses, and the error names the realm.
      await expectFatchart(resolveImageSlot([map.get(slot.refs[0].ref)!]), 'platform', /token endpoint answered 401/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
