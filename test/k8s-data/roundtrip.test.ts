import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { captureWithData, replicasAnnotation } from '../../src/platforms/k8s/data/index.js';
import { dataRestoreHooks } from '../../src/platforms/k8s/data/index.js';
import { restoreToCluster } from '../../src/platforms/k8s/restore.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { labImage, recordingContext, tempDir, treeOf, variedTree, Volumes, waitBound, waitReady, writer } from './support.js';

const lab = await kubeLab();
process.env.FATCHART_MOVER_IMAGE ??= labImage;

/** Host directory of the PV bound to a claim. */
async function hostDir(k: KubeLab, volumes: Volumes, namespace: string, claim: string): Promise<string> {
  const pv = (await k.kubectl(['get', 'pvc', claim, '-n', namespace, '-o', 'jsonpath={.spec.volumeName}'])).trim();
  return join(volumes.root, pv);
}

// The tests fill hostPath PVs from this machine: they need the local lab, not a remote cluster.
if (lab && !lab.isLab) console.warn('SKIP k8s data suite: FATCHART_E2E_KUBECONFIG points at a remote cluster; these tests need hostPath PVs on this machine (the local lab)');

describe.skipIf(!lab?.isLab)('k8s data: a varied tree through real mover pods, exec and the bundle', () => {
  const k = lab as KubeLab;
  const volumes = new Volumes(k);
  let source: string;
  let srcDir: string;
  let bundlePath: string;
  const ctx = recordingContext();

  beforeAll(async () => {
    await volumes.init();
    source = await k.namespace('fcd-src');
    srcDir = await volumes.pv(`${source}-data`);
    variedTree(srcDir, { sparse: true });
    await k.apply([volumes.claim('data', '2Gi'), writer('app', ['data'])], source);
    await waitBound(k, source);
    await waitReady(k, source, 'app');
  }, 180_000);
  afterAll(async () => {
    await k.cleanup();
    await volumes.cleanup();
  });

  it('packs the claim through a read-only mover on the claim\'s node and deletes the mover', async () => {
    const capture = await captureWithData({ namespace: source, selector: 'app=datatest', kubeconfig: k.kubeconfig }, ctx, 'k8s');
    expect(capture.volumes.map((v) => [v.name, v.consistency])).toEqual([['data', 'crash-consistent']]);
    bundlePath = join(tempDir('fcd-bundle-'), 'app.fatchart');
    try {
      await writeBundle({ out: bundlePath, model: capture.model, volumes: capture.volumes, created: new Date(0), toolVersion: 'test' }, ctx);
    } finally {
      await capture.release();
    }
    const bundle = await BundleReader.open(bundlePath);
    const v = bundle.manifest.volumes[0]!;
    expect(v.stats.dataBytes).toBeGreaterThan(1100 * 2 ** 20);
    expect(v.stats.hardlinks).toBe(1);
    expect(v.stats.symlinks).toBe(3);
    const pods = JSON.parse(await k.kubectl(['get', 'pods', '-n', source, '-l', 'fatchart.io/mover', '-o', 'json']));
    expect(pods.items.filter((p: any) => !p.metadata.deletionTimestamp)).toEqual([]);
  }, 600_000);

  it('unpacks into another namespace: data restored before workloads, every digest re-read in the pod and equal', async () => {
    const target = await k.namespace('fcd-dst');
    await volumes.pv(`${target}-data`);
    const bundle = await BundleReader.open(bundlePath);
    const rctx = recordingContext();
    const report = await restoreToCluster(
      bundle,
      { namespace: target, kubeconfig: k.kubeconfig, journal: join(tempDir('fcd-j-'), 'j.jsonl'), waitTimeoutSeconds: 120 },
      rctx,
      dataRestoreHooks,
    );
    expect(report).toMatchObject({ volumes: 1, digestsVerified: true });
    const restored = rctx.lines.findIndex((l) => l.startsWith('restored volume data'));
    expect(restored).toBeGreaterThan(rctx.lines.indexOf('created PersistentVolumeClaim/data'));
    expect(restored).toBeLessThan(rctx.lines.indexOf('created Deployment/app'));
    const dstDir = await hostDir(k, volumes, target, 'data');
    expect(await treeOf(dstDir)).toEqual(await treeOf(srcDir));
  }, 600_000);

  it('SIGINT during a pack: exit 130, no archive, no mover left, replicas given back', async (t) => {
    const cli = resolve('dist/cli/main.js');
    if (!existsSync(cli)) return t.skip();
    const out = join(tempDir('fcd-int-'), 'x.fatchart');
    const child = spawn('node', [cli, 'pack', '--source', 'k8s', '--kubeconfig', k.kubeconfig, '-n', source, '-l', 'app=datatest', '--quiesce', 'scale', '-o', out], {
      env: { ...process.env, FATCHART_MOVER_IMAGE: labImage },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Interrupt while the 1.1 GiB volume is streaming: the mover is running.
    for (let i = 0; i < 240; i++) {
      const running = await k.kubectl(['get', 'pods', '-n', source, '-l', 'fatchart.io/mover', '-o', 'jsonpath={.items[*].status.phase}']);
      if (running.includes('Running')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(existsSync(out)).toBe(false);
    const pods = JSON.parse(await k.kubectl(['get', 'pods', '-n', source, '-l', 'fatchart.io/mover', '-o', 'json']));
    expect(pods.items.filter((p: any) => !p.metadata.deletionTimestamp)).toEqual([]);
    const app = JSON.parse(await k.kubectl(['get', 'deployment', 'app', '-n', source, '-o', 'json']));
    expect(app.spec.replicas).toBe(1);
    expect(app.metadata.annotations?.[replicasAnnotation]).toBeUndefined();
    await waitReady(k, source, 'app');
  }, 300_000);
});
