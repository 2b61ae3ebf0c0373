/**
 * The whole air-gapped path through a real fat chart: images collected from the app's objects,
 * pulled from a real source registry into the bundle's image slot by the lead's bundle writer,
 * then pushed from the bundle to another real registry and the objects repointed by digest.
 */
import { existsSync, mkdtempSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/images.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { FatchartError } from '../../src/errors.js';
import { bundleLayout, exportBundleImages } from '../../src/images/bundle.js';
import { pushAndRewrite } from '../../src/images/flow.js';
import { collectImages, findImageUses } from '../../src/images/collect.js';
import { resolveImageSlot } from '../../src/images/pull.js';
import { pushImagesWithStats } from '../../src/images/push.js';
import type { AppModel } from '../../src/model/app.js';
import type { KubeObject } from '../../src/model/object.js';
import { quietContext } from '../../src/util/context.js';
import { commandProbe, needs } from '../support/require.js';
import { registryProbes, startCountingProxy, startRegistry, type RegistryInstance } from '../support/components/registry.js';
import { BUSYBOX, buildTestLayout, skopeo, skopeoCopyToRegistry, type BuiltLayout } from './build.js';

const ready = await needs(
  'image bundle tests',
  ...registryProbes,
  commandProbe('skopeo', ['--version']),
  () => (existsSync(BUSYBOX) ? undefined : `${BUSYBOX} is missing (Debian busybox-static)`),
);

function appObjects(registry: string): KubeObject[] {
  const container = (name: string, image: string) => ({ name, image });
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            initContainers: [container('init', `${registry}/test/multi:1.0`)],
            containers: [container('web', `${registry}/test/app-a:1.0`)],
          },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report' },
      spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container('r', `${registry}/test/app-b:1.0`)] } } } } },
    },
  ];
}

describe.skipIf(!ready)('images carried in a fat chart', () => {
  let built: BuiltLayout;
  let source: RegistryInstance;
  let target: RegistryInstance;
  let work: string;
  let bundle: string;
  let objects: KubeObject[];

  beforeAll(async () => {
    built = buildTestLayout();
    work = mkdtempSync(join(tmpdir(), 'fatchart-images-bundle-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    for (const name of ['app-a', 'app-b', 'multi']) skopeoCopyToRegistry(built.dir, name, `${source.host}/test/${name}:1.0`);
    objects = appObjects(source.host);
    const model: AppModel = { app: { name: 'shop' }, source: { platform: 'manifests' }, objects, originals: objects, losses: [] };
    const images = await resolveImageSlot(collectImages(objects));
    bundle = join(work, 'shop.fatchart');
    await writeBundle({ out: bundle, model, volumes: [], created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test', images }, quietContext());
  });

  afterAll(async () => {
    await Promise.all([source, target].filter(Boolean).map((r) => r.stop()));
    if (work) await rm(work, { recursive: true, force: true });
    if (built) await rm(dirname(built.dir), { recursive: true, force: true });
  });

  it('records name:tag and digest of every image, and stores the shared layer once', async () => {
    const reader = await BundleReader.open(bundle);
    expect(reader.manifest.images.refs.map((r) => r.ref)).toEqual(['app-a', 'app-b', 'multi'].map((n) => `${source.host}/test/${n}:1.0`));
    expect(reader.manifest.images.refs.slice(0, 2).map((r) => r.digest)).toEqual([built.names['app-a'], built.names['app-b']]);
    const blobs = [...reader.entries.keys()].filter((n) => n.startsWith('images/blobs/'));
    expect(blobs.filter((n) => n.endsWith(built.sharedLayer.slice(7)))).toHaveLength(1);
    expect(new Set(blobs).size).toBe(blobs.length);
  });

  it('unpacks to objects whose images all point at the target registry by digest, each found there by skopeo', async () => {
    const reader = await BundleReader.open(bundle);
    const { objects: rewritten, stats } = await pushAndRewrite(reader, await reader.objects(), `${target.host}/airgap`);
    expect(stats).toMatchObject({ uploaded: 8, mounted: 2, present: 0 });
    const uses = findImageUses(rewritten);
    expect(uses).toHaveLength(3);
    for (const use of uses) {
      expect(use.image).toMatch(new RegExp(`^${target.host.replace(/\./g, '\\.')}/airgap/test/[a-z-]+@sha256:[0-9a-f]{64}$`));
      const info = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${use.image}`));
      expect(info.Digest).toBe(use.image.split('@')[1]);
    }
    // Re-running the unpack's push sends no blob at all.
    const again = await pushImagesWithStats(await bundleLayout(await BundleReader.open(bundle)), `${target.host}/airgap`);
    expect(again.stats).toMatchObject({ uploaded: 0, mounted: 0, present: 10 });
  });

  it('refuses, before pushing anything, objects that run an image the bundle does not carry', async () => {
    const reader = await BundleReader.open(bundle);
    const extra = structuredClone(await reader.objects());
    (extra[1].spec as any).jobTemplate.spec.template.spec.containers.push({ name: 'stray', image: 'quay.io/elsewhere/tool:1' });
    const proxy = await startCountingProxy(target.host);
    try {
      const err = await pushAndRewrite(reader, extra, `${proxy.host}/stray`).catch((e) => e);
      expect(err).toBeInstanceOf(FatchartError);
      expect(err.code).toBe('preflight');
      expect(err.message).toBe('CronJob/report spec.jobTemplate.spec.template.spec.containers[1].image: runs quay.io/elsewhere/tool:1, which the bundle does not carry');
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('exports the slot as a layout skopeo copies from', async () => {
    const out = join(work, 'exported');
    const names = await exportBundleImages(bundle, out, quietContext());
    expect(names).toHaveLength(3);
    for (const name of names) {
      const dest = `${target.host}/exported/${name.split('/').slice(1).join('/')}`;
      skopeo('copy', '--dest-tls-verify=false', `oci:${out}:${name}`, `docker://${dest}`);
      expect(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${dest}`)).Layers).toContain(built.sharedLayer);
    }
  });

  it('fatchart images export BUNDLE DIR writes the layout and prints an oci: reference per image', async () => {
    const run = async (...args: string[]) => {
      const program = new Command('fatchart').option('-q, --quiet').option('-v, --verbose').exitOverride();
      register(program);
      const out: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
      const before = process.exitCode;
      try {
        await program.parseAsync(['node', 'fatchart', '-q', 'images', 'export', ...args]);
        return { code: process.exitCode, stdout: out.join('') };
      } finally {
        process.stdout.write = write;
        process.exitCode = before;
      }
    };
    const dir = join(work, 'cli-export');
    const ok = await run(bundle, dir);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines).toEqual(['app-a', 'app-b', 'multi'].map((n) => `oci:${dir}:${source.host}/test/${n}:1.0`));
    expect(JSON.parse(skopeo('inspect', lines[0])).Digest).toBe(built.names['app-a']);

    const bare = join(work, 'no-images.fatchart');
    const model: AppModel = { app: { name: 'bare' }, source: { platform: 'manifests' }, objects, originals: objects, losses: [] };
    await writeBundle({ out: bare, model, volumes: [], created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test' }, quietContext());
    const refused = await run(bare, join(work, 'cli-export-bare'));
    expect(refused.code).toBe(1);
    expect(existsSync(join(work, 'cli-export-bare'))).toBe(false);
  });

  it('refuses a bundle with a corrupted layer before the target registry sees any request', async () => {
    const reader = await BundleReader.open(bundle);
    const layer = reader.entries.get(`images/blobs/sha256/${built.sharedLayer.slice(7)}`)!;
    const fd = openSync(bundle, 'r+');
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
      const err = await pushImagesWithStats(await bundleLayout(await BundleReader.open(bundle)), `${proxy.host}/corrupt`).catch((e) => e);
      expect(err).toBeInstanceOf(FatchartError);
      expect(err.code).toBe('verification');
      expect(err.message).toContain(built.sharedLayer.slice(7));
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});
