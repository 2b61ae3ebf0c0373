import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { captureFromCluster, type KubeCapture } from '../../src/platforms/k8s/capture.js';
import { restoreToCluster } from '../../src/platforms/k8s/restore.js';
import { getPlatform } from '../../src/platforms/index.js';
import { haveFixtures } from './fixtures.js';
import { manualStorageClass, multiTierApp, multiTierExpected, widgetCrd, widgetCrdName } from './seed.js';
import { inNamespace, recordingContext, tempDir, waitBound } from './support.js';

const run = promisify(execFile);
const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;
const cli = resolve('dist/cli/main.js');

/** Through the real bundle format: capture → fat chart on disk → reader → restore. */
describe.skipIf(!lab)('k8s: pack to a fat chart and unpack from it (real API server)', () => {
  const k = lab as KubeLab;
  const dir = tempDir('fc-bundle-');
  let source: string;
  let captured: KubeCapture;

  beforeAll(async () => {
    await k.apply([widgetCrd, manualStorageClass]);
    await k.kubectl(['wait', '--for=condition=Established', `crd/${widgetCrdName}`, '--timeout=60s']);
    source = await k.namespace('fc-bsrc');
    await k.persistentVolume(`${source}-a`);
    await k.persistentVolume(`${source}-b`);
    await k.apply(multiTierApp(source).app, source);
    await waitBound(k, source);
    captured = await captureFromCluster({ namespace: source, selector: 'app=shop', kubeconfig: k.kubeconfig }, recordingContext(), 'k8s');
  });
  afterAll(async () => {
    await k.cleanup();
  });

  it('restores from the bundle reader into another namespace with equal cleaned objects', async () => {
    const out = join(dir, 'shop.fatchart');
    await writeBundle({ out, model: captured.model, volumes: captured.volumes, created: new Date(0), toolVersion: 'test' }, recordingContext());
    const reader = await BundleReader.open(out);
    const target = await k.namespace('fc-bdst');
    await k.persistentVolume(`${target}-a`);
    await k.persistentVolume(`${target}-b`);
    const report = await restoreToCluster(reader, { namespace: target, kubeconfig: k.kubeconfig, journal: join(dir, 'j.jsonl') }, recordingContext());
    expect(report.objects).toBe(multiTierExpected.length);
    const again = await captureFromCluster({ namespace: target, selector: 'app=shop', kubeconfig: k.kubeconfig }, recordingContext(), 'k8s');
    // The RoleBinding's subject followed the app into the target namespace.
    const binding = again.model.objects.find((o) => o.kind === 'RoleBinding') as any;
    expect(binding.subjects[0].namespace).toBe(target);
    expect(again.model.objects).toEqual(inNamespace(captured.model.objects, source, target));
  });

  it('runs end to end through the CLI: pack, unpack, rollback', async (ctx) => {
    const wired = await needs('CLI with the k8s platform', async () => {
      if (!existsSync(cli)) return `${cli} is not built (npm run build)`;
      return getPlatform('k8s').then(() => undefined, (e: Error) => e.message);
    });
    if (!wired) return ctx.skip();
    const env = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
    const out = join(dir, 'cli.fatchart');
    const packed = await run('node', [cli, 'pack', '--source', 'k8s', '--kubeconfig', k.kubeconfig, '-n', source, '-l', 'app=shop', '--explain', '-o', out], { env });
    expect(packed.stderr).toContain('+ Service/redis: selects the pods of Deployment/redis');
    const target = await k.namespace('fc-cli');
    await k.persistentVolume(`${target}-a`);
    await k.persistentVolume(`${target}-b`);
    const before = await k.snapshot(target);
    const unpacked = await run('node', [cli, 'unpack', out, '--target', 'k8s', '--kubeconfig', k.kubeconfig, '-n', target], { env });
    expect(unpacked.stdout).toMatch(new RegExp(`→ k8s-lab/${target}: ${multiTierExpected.length} objects`));
    const journal = unpacked.stderr.match(/journal: (\S+)/)?.[1];
    expect(journal).toBeDefined();
    // A completed unpack is only undone on purpose.
    const refused = await run('node', [cli, 'rollback', journal!, '--kubeconfig', k.kubeconfig], { env }).then(() => undefined, (e) => e);
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/that unpack completed; pass --force/);
    const undone = await run('node', [cli, 'rollback', journal!, '--kubeconfig', k.kubeconfig, '--force'], { env });
    expect(undone.stdout).toMatch(new RegExp(`rolled back k8s-lab/${target}: deleted ${multiTierExpected.length}, restored 0`));
    expect(await k.snapshot(target)).toEqual(before);
  });
});
