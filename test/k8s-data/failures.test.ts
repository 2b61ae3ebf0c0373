import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { captureWithData, dataRestoreHooks, replicasAnnotation } from '../../src/platforms/k8s/data/index.js';
import { restoreToCluster } from '../../src/platforms/k8s/restore.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { BundleReader } from '../../src/bundle/reader.js';
import type { IndexRecord } from '../../src/bundle/volume-index.js';
import { CutProxy, kubeconfigThrough, upstreamOf } from './tcp-cut-proxy.js';
import { labImage, recordingContext, tempDir, treeOf, variedTree, Volumes, waitBound, waitReady, writer } from './support.js';

const lab = await kubeLab();
process.env.FATCHART_MOVER_IMAGE ??= labImage;

// The tests fill hostPath PVs from this machine: they need the local lab, not a remote cluster.
if (lab && !lab.isLab) console.warn('SKIP k8s data suite: FATCHART_E2E_KUBECONFIG points at a remote cluster; these tests need hostPath PVs on this machine (the local lab)');

describe.skipIf(!lab?.isLab)('k8s data: failures on the real lab (broken streams, failing movers, mismatches, quiesce)', () => {
  const k = lab as KubeLab;
  const volumes = new Volumes(k);
  let source: string;
  let srcDir: string;
  let bundlePath: string;

  const moverPods = async (ns: string) =>
    JSON.parse(await k.kubectl(['get', 'pods', '-n', ns, '-l', 'fatchart.io/mover', '-o', 'json'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  const indexOf = async (path: string) => {
    const b = await BundleReader.open(path);
    const out: Record<string, IndexRecord> = {};
    for await (const r of b.volumeIndex('data')) out[r.path] = r;
    return out;
  };

  beforeAll(async () => {
    await volumes.init();
    source = await k.namespace('fcd-fail');
    srcDir = await volumes.pv(`${source}-data`);
    variedTree(srcDir);
    writeFileSync(join(srcDir, 'big.bin'), randomBytes(24 << 20));
    await k.apply([volumes.claim('data'), writer('app', ['data'])], source);
    await waitBound(k, source);
    await waitReady(k, source, 'app');
  }, 180_000);
  afterAll(async () => {
    await k.cleanup();
    await volumes.cleanup();
  });

  it('retries a stream cut mid-transfer from the start and still packs every byte', async () => {
    const proxy = await CutProxy.start(upstreamOf(k.kubeconfig), 8 << 20, 1);
    try {
      const kubeconfig = kubeconfigThrough(k.kubeconfig, proxy.port, tempDir('fcd-kc-'));
      const ctx = recordingContext();
      const capture = await captureWithData({ namespace: source, selector: 'app=datatest', kubeconfig }, ctx, 'k8s');
      bundlePath = join(tempDir('fcd-b-'), 'app.fatchart');
      try {
        await writeBundle({ out: bundlePath, model: capture.model, volumes: capture.volumes, created: new Date(0), toolVersion: "test", retries: 2 }, ctx);
      } finally {
        await capture.release();
      }
      expect(proxy.cuts).toBe(1);
      expect(ctx.lines.some((l) => /volume data: stream broke .*retrying from the start/.test(l))).toBe(true);
      const index = await indexOf(bundlePath);
      const tree = await treeOf(srcDir);
      for (const [path, e] of Object.entries(tree)) if (e.type === 'file' && e.inode === undefined) expect(index[path]?.sha256, path).toBe(e.sha256);
      expect(await moverPods(source)).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 300_000);

  it('fails the pack naming the image when the mover cannot run, and deletes the mover', async () => {
    const ctx = recordingContext();
    // The pause image has no shell: the mover's command cannot start.
    const capture = await captureWithData({ namespace: source, selector: 'app=datatest', kubeconfig: k.kubeconfig, moverImage: 'lab.local/pause:3.2' }, ctx, 'k8s');
    try {
      await expect(
        writeBundle({ out: join(tempDir('fcd-b-'), 'x.fatchart'), model: capture.model, volumes: capture.volumes, created: new Date(0), toolVersion: 'test' }, ctx),
      ).rejects.toThrow(/lab\.local\/pause:3\.2.*--mover-image/);
    } finally {
      await capture.release();
    }
    expect(await moverPods(source)).toEqual([]);
  }, 300_000);

  it('scales the owning workload to zero while copying and back after a failure', async () => {
    const proxy = await CutProxy.start(upstreamOf(k.kubeconfig), 8 << 20, 10);
    try {
      const kubeconfig = kubeconfigThrough(k.kubeconfig, proxy.port, tempDir('fcd-kc-'));
      const ctx = recordingContext();
      const capture = await captureWithData({ namespace: source, selector: 'app=datatest', kubeconfig, quiesce: 'scale' }, ctx, 'k8s');
      expect(capture.volumes[0]!.consistency).toBe('quiesce-scale');
      try {
        await expect(
          writeBundle({ out: join(tempDir('fcd-b-'), 'x.fatchart'), model: capture.model, volumes: capture.volumes, created: new Date(0), toolVersion: 'test', retries: 1 }, ctx),
        ).rejects.toThrow(/exec connection .* closed mid-stream|stream/);
        const during = JSON.parse(await k.kubectl(['get', 'deployment', 'app', '-n', source, '-o', 'json']));
        expect(during.spec.replicas).toBe(0);
        expect(during.metadata.annotations[replicasAnnotation]).toBe('1');
      } finally {
        await capture.release();
      }
      expect(ctx.lines).toContain('scaled Deployment/app from 1 to 0 while its data is copied');
      expect(ctx.lines).toContain('scaled Deployment/app back to 1');
      const after = JSON.parse(await k.kubectl(['get', 'deployment', 'app', '-n', source, '-o', 'json']));
      expect(after.spec.replicas).toBe(1);
      expect(after.metadata.annotations?.[replicasAnnotation]).toBeUndefined();
      expect(await moverPods(source)).toEqual([]);
      await waitReady(k, source, 'app');
    } finally {
      await proxy.close();
    }
  }, 300_000);

  /** Restores the bundle into a fresh namespace; returns the namespace and what the restore threw. */
  async function failingRestore(prepare: (hostDir: string) => void, wrap?: (b: BundleReader) => BundleReader) {
    const target = await k.namespace('fcd-rb');
    const dir = await volumes.pv(`${target}-data`);
    prepare(dir);
    const before = await k.snapshot(target);
    const bundle = await BundleReader.open(bundlePath);
    const rctx = recordingContext();
    const error = await restoreToCluster(
      wrap ? wrap(bundle) : bundle,
      { namespace: target, kubeconfig: k.kubeconfig, journal: join(tempDir('fcd-j-'), 'j.jsonl'), waitTimeoutSeconds: 120 },
      rctx,
      dataRestoreHooks,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(await k.snapshot(target)).toEqual(before);
    expect(await moverPods(target)).toEqual([]);
    return { error, lines: rctx.lines };
  }

  it('rolls the unpack back when tar in the mover exits non-zero', async () => {
    // A non-empty directory where the bundle has a file: tar -x cannot replace it.
    const { error, lines } = await failingRestore((dir) => {
      mkdirSync(join(dir, 'empty-file', 'occupied'), { recursive: true });
    });
    expect(error?.message).toMatch(/volume data: (sh in \S+ exited with code 1: tar: |tar -x exited with 1 before reading all its input: tar: )can't remove old file .*rolled back: deleted \d+/);
    expect(lines.some((l) => l.startsWith('created Deployment/'))).toBe(false);
  }, 300_000);

  it('rolls the unpack back when a restored digest differs from the bundle index', async () => {
    // Bytes altered between the verified bundle and the pod (same length, so tar stays valid):
    // only the in-pod re-read can notice.
    const { error } = await failingRestore(
      () => {},
      (bundle) =>
        new Proxy(bundle, {
          get(target, prop) {
            if (prop !== 'volumeTar') return Reflect.get(target, prop, target);
            return (name: string) =>
              target.volumeTar(name).pipe(
                new Transform({
                  transform(chunk: Buffer, _e, done) {
                    const at = chunk.indexOf('hello\n');
                    if (at >= 0) chunk.write('HELLO\n', at);
                    done(null, chunk);
                  },
                }),
              );
          },
        }),
    );
    expect(error?.message).toMatch(/volume data: 1 difference\(s\) after restore: bin\/deep\/er\/small\.txt: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}.*rolled back/);
  }, 300_000);

  it('rolls back when a file the bundle does not have is found on the restored claim', async () => {
    const { error } = await failingRestore((dir) => writeFileSync(join(dir, 'intruder.txt'), 'x'));
    expect(error?.message).toMatch(/intruder\.txt: not in the bundle.*rolled back/);
  }, 300_000);
});
