import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';
import { BundleReader } from '../../src/bundle/reader.js';
import type { KubeObject } from '../../src/model/object.js';
import { haveFixtures } from '../k8s/fixtures.js';
import { multiTierApp, widgetCrd, widgetCrdName } from '../k8s/seed.js';
import { labImage, tempDir, Volumes, waitBound } from './support.js';

const run = promisify(execFile);
const lab = (await needs('shared fixtures', haveFixtures)) ? await kubeLab() : undefined;
const cli = resolve('dist/cli/main.js');

/** Where each claim of the multi-tier app is mounted, and by which workload. */
const mounts = [
  { claim: 'redis-data', workload: 'deployment/redis' },
  { claim: 'www-nginx-sts-0', workload: 'statefulset/nginx-sts' },
];

/** Files of every kind, written by the app's own pods through exec. */
const fill = (dir: string, seed: string) =>
  `set -e; cd '${dir}'; head -c 5000000 /dev/urandom > blob.bin; mkdir -p empty sub/deeper; echo '${seed}' > sub/deeper/x.txt; ` +
  `ln -s sub/deeper/x.txt link; ln blob.bin blob.hard; echo ü > 'ünï cödé.txt'; chmod 640 sub/deeper/x.txt; chown 999:998 blob.bin; chmod 2750 empty`;

/** Type, mode, owner, digest or target of every entry, read by the pod (the digest list to compare). */
const listing = (dir: string) =>
  `cd '${dir}' && find . -mindepth 1 -exec sh -c 'for p; do if [ -L "$p" ]; then echo "L $p -> $(readlink "$p")"; ` +
  `elif [ -f "$p" ]; then echo "F $(stat -c %a:%u:%g:%h "$p") $(sha256sum < "$p" | cut -c1-64) $p"; else echo "D $(stat -c %a:%u:%g "$p") $p"; fi; done' sh {} + | sort`;

// The tests fill hostPath PVs from this machine: they need the local lab, not a remote cluster.
if (lab && !lab.isLab) console.warn('SKIP k8s data suite: FATCHART_E2E_KUBECONFIG points at a remote cluster; these tests need hostPath PVs on this machine (the local lab)');

describe.skipIf(!lab?.isLab)('k8s data: the multi-tier app with data packs and unpacks through the CLI in each consistency mode', () => {
  const k = lab as KubeLab;
  const volumes = new Volumes(k);
  const dir = tempDir('fcd-cli-');
  let source: string;
  const mountPath: Record<string, string> = {};
  const env = { ...process.env, FATCHART_MOVER_IMAGE: labImage, XDG_STATE_HOME: dir };

  const exec = (ns: string, workload: string, script: string) => k.kubectl(['exec', '-n', ns, workload, '--', 'sh', '-c', script]);
  const rolledOut = async (ns: string) => {
    for (const m of mounts) await k.kubectl(['rollout', 'status', m.workload, '-n', ns, '--timeout=180s']);
  };
  const listings = async (ns: string) => {
    const out: Record<string, string> = {};
    for (const m of mounts) out[m.claim] = await exec(ns, m.workload, listing(mountPath[m.claim]));
    return out;
  };

  beforeAll(async () => {
    if (!(await needs('built CLI', () => (existsSync(cli) ? undefined : `${cli} is not built (npm run build)`)))) return;
    await volumes.init();
    await k.apply([widgetCrd]);
    await k.kubectl(['wait', '--for=condition=Established', `crd/${widgetCrdName}`, '--timeout=60s']);
    source = await k.namespace('fcd-shop');
    await volumes.pv(`${source}-a`);
    await volumes.pv(`${source}-b`);
    const app = multiTierApp(source).app.map((o: KubeObject) => {
      const x = o as any;
      if (x.kind === 'PersistentVolumeClaim') x.spec.storageClassName = volumes.storageClass;
      for (const t of x.spec?.volumeClaimTemplates ?? []) t.spec.storageClassName = volumes.storageClass;
      // Velero-style hooks (used by --quiesce hooks): the pre hook leaves a mark in the data.
      if (x.kind === 'Deployment' || x.kind === 'StatefulSet') {
        const claimVolume = (x.spec.template.spec.volumes ?? []).find((v: any) => v.persistentVolumeClaim)?.name ?? x.spec.volumeClaimTemplates?.[0]?.metadata.name;
        const path = x.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === claimVolume).mountPath;
        mountPath[x.kind === 'Deployment' ? 'redis-data' : 'www-nginx-sts-0'] = path;
        x.spec.template.metadata.annotations = {
          ...x.spec.template.metadata.annotations,
          'pre.hook.fatchart.io/command': `date +%s%N > '${path}/flushed-by-pre-hook'; sync`,
          'post.hook.fatchart.io/command': '["sh", "-c", "touch /tmp/post-hook-ran"]',
        };
      }
      return o;
    });
    await k.apply(app, source);
    await waitBound(k, source);
    await rolledOut(source);
    for (const m of mounts) await exec(source, m.workload, fill(mountPath[m.claim], m.claim));
  }, 300_000);
  afterAll(async () => {
    await k.cleanup();
    await volumes.cleanup();
  });

  /** What the source held when each mode's bundle was packed (later hooks add files to it). */
  const packedListings = new Map<string, Awaited<ReturnType<typeof listings>>>();
  const modes = [
    { quiesce: 'none', consistency: 'crash-consistent' },
    { quiesce: 'scale', consistency: 'quiesce-scale' },
    { quiesce: 'hooks', consistency: 'quiesce-hooks' },
  ];
  for (const mode of modes) {
    it(`--quiesce ${mode.quiesce}: every file's digest, mode, owner and link is equal in the other namespace`, async (t) => {
      if (!source) t.skip();
      const out = join(dir, `shop-${mode.quiesce}.fatchart`);
      const packed = await run('node', [cli, 'pack', '--source', 'k8s', '--kubeconfig', k.kubeconfig, '-n', source, '-l', 'app=shop', '--quiesce', mode.quiesce, '--parallel', '2', '-o', out], { env });
      expect(packed.stderr).not.toMatch(/crash-consistent: /);
      const bundle = await BundleReader.open(out);
      expect(bundle.manifest.volumes.map((v) => [v.name, v.consistency]).sort()).toEqual(mounts.map((m) => [m.claim, mode.consistency]).sort());
      await rolledOut(source);
      const expected = await listings(source);
      packedListings.set(mode.quiesce, expected);
      if (mode.quiesce === 'hooks') {
        expect(expected['redis-data']).toMatch(/ \.\/flushed-by-pre-hook\n/);
        for (const m of mounts) await exec(source, m.workload, 'test -e /tmp/post-hook-ran');
      }
      // Nothing of fatchart's is left in the source.
      expect(await k.kubectl(['get', 'pods', '-n', source, '-l', 'fatchart.io/mover', '-o', 'name'])).toBe('');

      const target = await k.namespace(`fcd-shop-${mode.quiesce}`);
      await volumes.pv(`${target}-a`);
      await volumes.pv(`${target}-b`);
      const unpacked = await run('node', [cli, 'unpack', out, '--target', 'k8s', '--kubeconfig', k.kubeconfig, '-n', target], { env });
      expect(unpacked.stderr).toMatch(/restored volume redis-data: .*every digest re-read in the pod and equal/);
      expect(unpacked.stderr).toMatch(/restored volume www-nginx-sts-0: .*every digest re-read in the pod and equal/);
      await rolledOut(target);
      const restored = await listings(target);
      expect(restored).toEqual(expected);
      expect(restored['redis-data'].split('\n').length).toBeGreaterThan(7);
    }, 600_000);
  }

  it('--only-volume restores one claim and --skip-data none; the workloads roll out either way', async (t) => {
    const out = join(dir, 'shop-none.fatchart');
    const expected = packedListings.get('none');
    if (!source || !existsSync(out) || !expected) return t.skip();
    for (const [flag, restored] of [[['--only-volume', 'redis-data'], ['redis-data']], [['--skip-data'], []]] as const) {
      const target = await k.namespace('fcd-shop-sel');
      await volumes.pv(`${target}-a`);
      await volumes.pv(`${target}-b`);
      const unpacked = await run('node', [cli, 'unpack', out, '--target', 'k8s', '--kubeconfig', k.kubeconfig, '-n', target, ...flag], { env });
      expect(unpacked.stderr.match(/restored volume (\S+):/g) ?? []).toEqual(restored.map((c) => `restored volume ${c}:`));
      await rolledOut(target);
      const got = await listings(target);
      for (const m of mounts) expect(got[m.claim]).toBe((restored as readonly string[]).includes(m.claim) ? expected[m.claim] : '');
    }
  }, 600_000);
});
