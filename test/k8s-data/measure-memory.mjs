#!/usr/bin/env node
/**
 * Peak memory of packing one claim from the real lab, for claims of different sizes: shows that
 * pack streams (mover tar -> exec WebSocket -> zstd -> archive) instead of buffering a volume.
 * Not a test (speed and memory are measured, not asserted): run after `npm run build` with the
 * lab up:  node test/k8s-data/measure-memory.mjs 100M 2G
 * Each size: a hostPath PV filled with random (incompressible) data, a claim and a pod using it
 * in a fresh namespace, then `fatchart pack --source k8s` in a child process under
 * /usr/bin/time -f %M (peak RSS), then everything is deleted. VIA_CLI=1 runs `fatchart pack` instead
 * of the library calls it makes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const lab = resolve('../shared/tools/k8s-lab/k8s-lab');
const kubeconfig = execFileSync(lab, ['up', '--node'], { encoding: 'utf8' }).trim().split('\n').pop().replace(/^export KUBECONFIG=/, '');
const kubectl = (args, input) => execFileSync(lab, ['kubectl', '--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input });
/** The same pack through the library (captureWithData + writeBundle), before the CLI is wired. */
const library = (kc, ns, out) => `
import { captureWithData } from '${resolve('dist/platforms/k8s/data/index.js')}';
import { writeBundle } from '${resolve('dist/bundle/writer.js')}';
import { quietContext } from '${resolve('dist/util/context.js')}';
const ctx = quietContext();
const c = await captureWithData({ namespace: '${ns}', selector: 'app=mem', kubeconfig: '${kc}' }, ctx, 'k8s');
try { await writeBundle({ out: '${out}', model: c.model, volumes: c.volumes, created: new Date(), toolVersion: 'measure' }, ctx); } finally { await c.release(); }
`;
const sizes = process.argv.slice(2).length ? process.argv.slice(2) : ['100M', '2G'];

for (const size of sizes) {
  const id = `fcd-mem-${Math.random().toString(36).slice(2, 7)}`;
  const root = mkdtempSync(join(tmpdir(), 'fcd-mem-'));
  const data = join(root, 'pv');
  execFileSync('mkdir', ['-p', data]);
  execFileSync('sh', ['-c', `head -c ${size} /dev/urandom > '${data}/random.bin'`]);
  const objects = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: ${id}}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: ${id}}
spec:
  capacity: {storage: 4Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ${id}
  hostPath: {path: ${data}, type: Directory}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${id}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${id}, labels: {app: mem}}
spec: {accessModes: [ReadWriteOnce], storageClassName: ${id}, resources: {requests: {storage: 3Gi}}}
`;
  try {
    kubectl(['apply', '-f', '-'], objects);
    for (let i = 0; i < 120 && kubectl(['get', 'pvc', 'data', '-n', id, '-o', 'jsonpath={.status.phase}']).trim() !== 'Bound'; i++) execFileSync('sleep', ['0.5']);
    // A namespace's pods are refused until its default ServiceAccount has a token (1.20).
    for (let i = 0; i < 40 && !kubectl(['get', 'sa', 'default', '-n', id, '-o', 'jsonpath={.secrets}']).trim(); i++) execFileSync('sleep', ['0.25']);
    const out = join(root, 'mem.fatchart');
    const t0 = Date.now();
    const res = spawnSync(
      '/usr/bin/time',
      process.env.VIA_CLI
        ? ['-f', 'peakRSS=%MkB', 'node', 'dist/cli/main.js', 'pack', '--source', 'k8s', '--kubeconfig', kubeconfig, '-n', id, '-l', 'app=mem', '-o', out]
        : ['-f', 'peakRSS=%MkB', 'node', '--input-type=module', '-e', library(kubeconfig, id, out)],
      { encoding: 'utf8', env: { ...process.env, FATCHART_MOVER_IMAGE: process.env.FATCHART_MOVER_IMAGE ?? 'lab.local/busybox:bookworm' } },
    );
    const seconds = (Date.now() - t0) / 1000;
    if (res.status !== 0) throw new Error(`pack failed: ${res.stderr}`);
    const peak = Number(res.stderr.match(/peakRSS=(\d+)kB/)[1]);
    console.log(`${size} claim: pack peak RSS ${(peak / 1024).toFixed(0)} MiB, ${seconds.toFixed(1)} s, archive ${(statSync(out).size / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    kubectl(['delete', 'namespace', id, '--wait=false']);
    kubectl(['delete', 'pv', id, '--wait=false']);
    kubectl(['delete', 'storageclass', id, '--wait=false']);
    rmSync(root, { recursive: true, force: true });
  }
}
