/**
 * Issue 7's "done when", through the built CLI against real registries (Debian's
 * docker-registry) and skopeo: a manifests app whose workloads run three images from a source
 * registry (two sharing a layer, one a multi-arch index) is packed with --images referenced;
 * inspect lists them; unpack --target manifests --push-images writes manifests whose every image
 * is `<target>/…@sha256:…`, each found there by skopeo; a second unpack uploads no blob; a
 * corrupted layer is refused before the target registry sees a single request.
 */
import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { runCli } from '../support/cli.js';
import { registryProbes, startCountingProxy, startRegistry, type RegistryInstance } from '../support/components/registry.js';
import { commandProbe, needs } from '../support/require.js';
import { BUSYBOX, buildTestLayout, skopeo, skopeoCopyToRegistry, type BuiltLayout } from '../images/build.js';

const ready = await needs(
  'images through the CLI',
  ...registryProbes,
  commandProbe('skopeo', ['--version']),
  () => (existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (Debian busybox-static)`),
);

const appYaml = (registry: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      initContainers:
        - name: init
          image: ${registry}/test/multi:1.0
      containers:
        - name: web
          image: ${registry}/test/app-a:1.0
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: ${registry}/test/app-b:1.0
`;

/** Every `image:` of every object the manifests target wrote. */
async function writtenImages(dir: string): Promise<string[]> {
  const images: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'image' && typeof v === 'string') images.push(v);
        else walk(v);
      }
    }
  };
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && /\.ya?ml$/.test(e.name)) for (const doc of yaml.loadAll(await readFile(join(e.parentPath, e.name), 'utf8'))) walk(doc);
  }
  return images;
}

const uploads = (requests: Array<{ method: string; path: string }>) => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.path.includes('/blobs/'));

describe.skipIf(!ready)('pack --images referenced → unpack --push-images', () => {
  let built: BuiltLayout;
  let source: RegistryInstance;
  let target: RegistryInstance;
  let work: string;
  const cli = (...args: string[]) => runCli(args, { cwd: work });

  beforeAll(async () => {
    built = buildTestLayout();
    work = await mkdtemp(join(tmpdir(), 'fatchart-cli-images-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    for (const name of ['app-a', 'app-b', 'multi']) skopeoCopyToRegistry(built.dir, name, `${source.host}/test/${name}:1.0`);
    await mkdir(join(work, 'shop'));
    await writeFile(join(work, 'shop', 'app.yaml'), appYaml(source.host));
  });

  afterAll(async () => {
    await Promise.all([source, target].filter(Boolean).map((r) => r.stop()));
    if (work) await rm(work, { recursive: true, force: true });
    if (built) await rm(dirname(built.dir), { recursive: true, force: true });
  });

  it('packs every referenced image by digest and inspect lists them', async () => {
    const packed = await cli('pack', 'shop', '-o', 'shop.fatchart', '--images', 'referenced');
    expect(packed.stderr).not.toMatch(/error/i);
    expect(packed.code).toBe(0);
    expect(packed.stdout).toMatch(/3 images/);
    const inspected = await cli('inspect', 'shop.fatchart');
    expect(inspected.code).toBe(0);
    // Single-platform images keep their digest; the index resolves to its linux/amd64 image.
    for (const name of ['app-a', 'app-b']) expect(inspected.stdout).toMatch(new RegExp(`${source.host}/test/${name}:1\\.0\\s+${built.names[name]}\\s+linux/amd64`));
    expect(inspected.stdout).toMatch(new RegExp(`${source.host}/test/multi:1\\.0\\s+sha256:[0-9a-f]{64}\\s+linux/amd64`));
  });

  it('unpacks to manifests whose every image is the target registry by digest, each found there by skopeo', async () => {
    const unpacked = await cli('unpack', 'shop.fatchart', '--target', 'manifests', '--out', 'out', '--push-images', `${target.host}/airgap`);
    expect(unpacked.stderr).not.toMatch(/error/i);
    expect(unpacked.code).toBe(0);
    const images = await writtenImages(join(work, 'out'));
    expect(images).toHaveLength(3);
    for (const image of images) {
      expect(image).toMatch(new RegExp(`^${target.host.replace(/\./g, '\\.')}/airgap/test/(app-a|app-b|multi)@sha256:[0-9a-f]{64}$`));
      expect(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${image}`)).Digest).toBe(image.split('@')[1]);
    }
    // What runs is what was packed: each pushed digest is the one the bundle recorded.
    const recorded = (await BundleReader.open(join(work, 'shop.fatchart'))).manifest.images.refs;
    expect(images.map((i) => i.split('@')[1]).sort()).toEqual(recorded.map((r) => r.digest).sort());
  });

  it('a second unpack uploads no blob', async () => {
    const proxy = await startCountingProxy(target.host);
    try {
      const again = await cli('unpack', 'shop.fatchart', '--target', 'manifests', '--out', 'out-again', '--push-images', `${proxy.host}/airgap`);
      expect(again.code).toBe(0);
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(uploads(proxy.requests)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('refuses a bundle with a corrupted layer before the target registry sees any request, writing nothing', async () => {
    const corrupt = join(work, 'corrupt.fatchart');
    await writeFile(corrupt, await readFile(join(work, 'shop.fatchart')));
    const layer = (await BundleReader.open(corrupt)).entries.get(`images/blobs/sha256/${built.sharedLayer.slice(7)}`)!;
    const fd = openSync(corrupt, 'r+');
    try {
      const byte = Buffer.alloc(1);
      readSync(fd, byte, 0, 1, layer.offset + (layer.size >> 1));
      byte[0] ^= 0xff;
      writeSync(fd, byte, 0, 1, layer.offset + (layer.size >> 1));
    } finally {
      closeSync(fd);
    }
    const proxy = await startCountingProxy(target.host);
    try {
      const refused = await cli('unpack', 'corrupt.fatchart', '--target', 'manifests', '--out', 'out-corrupt', '--push-images', `${proxy.host}/corrupt`);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(built.sharedLayer.slice(7));
      expect(proxy.requests).toEqual([]);
      expect(existsSync(join(work, 'out-corrupt'))).toBe(false);
    } finally {
      await proxy.stop();
    }
  });
});
