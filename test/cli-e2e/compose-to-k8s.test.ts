/**
 * Issue 9's second "done when", through the built CLI: the running Compose project of the
 * compose-engine suite (named volume with varied files, bind mount, secret, healthcheck,
 * depends_on) is packed with `pack --source compose`, then
 *   1. `unpack --target manifests` writes Kubernetes manifests plus one data folder per claim,
 *      every file's sha256 equal to the bundle index (the digests taken from the engine);
 *   2. `unpack --target k8s` onto the real k8s-lab restores it: exit 0, claims Bound, the
 *      workloads ready, and every file on the claims' hostPath volumes equal to the index.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import type { IndexRecord } from '../../src/bundle/volume-index.js';
import { engineClient } from '../../src/platforms/compose/engine/client.js';
import { freePort, listingScript, runScript, uniqueName } from '../compose-engine/engine-helpers.js';
import { composeDown, startSourceProject } from '../compose-engine/fixture-project.js';
import { cliPath, runCli } from '../support/cli.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { kubeLab, type KubeLab } from '../support/components/k8s.js';
import { needs } from '../support/require.js';

const run = promisify(execFile);
const labTool = '../shared/tools/k8s-lab/k8s-lab';
const moverImage = 'lab.local/busybox:bookworm';

const ready =
  (await needs('built CLI', () => (existsSync(cliPath) ? undefined : `${cliPath} is not built (npm run build)`))) &&
  (await needs('Docker Engine and Compose CLI', dockerProbe, composeProbe));
const lab = ready ? await kubeLab() : undefined;
if (lab && !lab.isLab) console.warn('SKIP compose-to-k8s: FATCHART_E2E_KUBECONFIG points at a remote cluster; this test reads hostPath PVs on this machine');

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** What the bundle index says of each entry: file digests, link targets, directories. */
function describeIndex(records: IndexRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of records) {
    const path = r.path.replace(/^\.\//, '').replace(/\/$/, '');
    if (!path || path === '.') continue;
    if (r.type === 'file' || r.type === 'hardlink') out[path] = r.sha256 ? `file ${r.sha256}` : 'file';
    else if (r.type === 'symlink') out[path] = `link ${r.linkname}`;
    else if (r.type === 'dir') out[path] = 'dir';
  }
  return out;
}

/** The same description read back from a folder on disk (hard links are plain files there). */
async function describeTree(root: string, rel = '', out: Record<string, string> = {}): Promise<Record<string, string>> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, path));
    if (st.isSymbolicLink()) out[path] = `link ${await readlink(join(root, path))}`;
    else if (st.isDirectory()) {
      out[path] = 'dir';
      await describeTree(root, path, out);
    } else out[path] = `file ${await sha256(join(root, path))}`;
  }
  return out;
}

/** `path -> file DIGEST` of the regular files in a busybox listing (listingScript). */
function fileDigests(listing: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of listing.split('\n')) {
    const m = /^\.\/(.+) file \S+ \S+ \d+ \d+ \d+ ([0-9a-f]{64})$/.exec(line);
    if (m) out[m[1]] = `file ${m[2]}`;
  }
  return out;
}

/** Index records carry hard links as links to their first name: resolve them to the digest. */
function resolveHardlinks(records: IndexRecord[]): IndexRecord[] {
  const byPath = new Map(records.map((r) => [r.path.replace(/^\.\//, ''), r]));
  return records.map((r) => (r.type === 'hardlink' && !r.sha256 ? { ...r, sha256: byPath.get((r.linkname ?? '').replace(/^\.\//, ''))?.sha256 } : r));
}

describe.skipIf(!lab?.isLab)('a Compose project packed from the engine unpacks to manifests and onto Kubernetes with its data', () => {
  const k = lab as KubeLab;
  let docker: DockerComponent;
  let dir: string;
  let bundlePath: string;
  let index: Record<string, Record<string, string>>;
  let engineDigests: Record<string, string>;
  const source = uniqueName('fcck');
  const storageClass = `fc-ck-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    docker = await startDocker();
    const engine = engineClient(docker.host);
    dir = await mkdtemp(join(tmpdir(), 'fct-ck-'));
    await mkdir(join(dir, 'src'));
    await startSourceProject(engine, docker, join(dir, 'src'), source, await freePort());
    // The lab's node pulls nothing: hand it the test image the Compose services run.
    const image = join(dir, 'image.tar');
    await run('docker', ['save', '-o', image, docker.image], { env: docker.env });
    await run(labTool, ['import-image', image], { timeout: 120_000 });
    // The engine's own view of the named volume (busybox's sha256sum): the index must agree.
    engineDigests = fileDigests(await runScript(engine, docker.image, [`${source}_site:/v:ro`], listingScript('/v')));
  }, 240_000);

  afterAll(async () => {
    await k.cleanup();
    await k.kubectl(['delete', 'storageclass', storageClass, '--wait=false']).catch(() => {});
    if (!dir) return;
    await composeDown(docker, join(dir, 'src'), source).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('packs the running project through the CLI', async () => {
    bundlePath = join(dir, 'app.fatchart');
    const packed = await runCli(['pack', '--source', 'compose', '-p', source, '--quiesce', 'pause', join(dir, 'src'), '-o', bundlePath], { env: docker.env });
    expect(packed.code, packed.stderr).toBe(0);
    const reader = await BundleReader.open(bundlePath);
    index = {};
    for (const v of reader.manifest.volumes) {
      const records: IndexRecord[] = [];
      for await (const r of reader.volumeIndex(v.name)) records.push(r);
      index[v.name] = describeIndex(resolveHardlinks(records));
    }
    expect(Object.keys(index).sort()).toEqual(['bind-uploads', 'site']);
    const siteFiles = Object.fromEntries(Object.entries(index.site).filter(([, d]) => d.startsWith('file ')));
    expect(siteFiles).toEqual(engineDigests);
    expect(Object.keys(siteFiles)).toContain('img/blob-hardlink.bin');
    expect(index['bind-uploads']['sub/big.bin']).toBe(`file ${createHash('sha256').update(Buffer.alloc(2 << 20, 7)).digest('hex')}`);
  }, 120_000);

  it('unpacks with --target manifests to Kubernetes manifests plus data folders with equal digests', async (t) => {
    if (!index) return t.skip();
    const out = join(dir, 'manifests-out');
    const res = await runCli(['unpack', bundlePath, '--target', 'manifests', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const docs = await readdir(join(out, 'manifests'));
    const objects: any[] = [];
    for (const f of docs) for (const o of yaml.loadAll(await readFile(join(out, 'manifests', f), 'utf8'))) if (o) objects.push(o);
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment/web', 'Deployment/worker', 'Service/web']));
    const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name).sort();
    expect(claims).toHaveLength(2);
    expect(kinds.some((k) => k.startsWith('Secret/'))).toBe(true);
    // One data folder per claim, holding the volume's files byte for byte.
    expect((await readdir(join(out, 'data'))).sort()).toEqual(claims);
    const got = await Promise.all(claims.map((c) => describeTree(join(out, 'data', c))));
    expect(got.sort(byFirstKey)).toEqual(Object.values(index).sort(byFirstKey));
  }, 120_000);

  it('unpacks with --target k8s onto the lab: claims Bound, workloads ready, every digest equal on the volumes', async (t) => {
    if (!index) return t.skip();
    const ns = await k.namespace('fcck');
    // Converted claims carry no class: map them to a private one with hostPath PVs to bind.
    await k.apply([{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: storageClass }, provisioner: 'kubernetes.io/no-provisioner' }]);
    await k.persistentVolume(`${ns}-a`, '2Gi', storageClass);
    await k.persistentVolume(`${ns}-b`, '2Gi', storageClass);
    // depends_on became an init container of worker that waits on `nc -z web 8080` (busybox:1.36):
    // the lab runs no cluster DNS nor kube-proxy and pulls nothing, so it could never pass here.
    const patch = join(dir, 'no-wait.yaml');
    await writeFile(patch, yaml.dump([{ match: { kind: 'Deployment', name: 'worker' }, jsonPatch: [{ op: 'remove', path: '/spec/template/spec/initContainers' }] }]));
    const res = await runCli(
      ['unpack', bundlePath, '--target', 'k8s', '--kubeconfig', k.kubeconfig, '-n', ns, '--mover-image', moverImage, '--map-storage-class', `*=${storageClass}`, '--patch', patch, '--wait-timeout', '120'],
      { env: { XDG_STATE_HOME: dir } },
    );
    expect(res.code, res.stderr).toBe(0);
    const pvcs = JSON.parse(await k.kubectl(['get', 'pvc', '-n', ns, '-o', 'json'])).items as any[];
    expect(pvcs.map((c) => c.status.phase)).toEqual(['Bound', 'Bound']);
    // Read each claim's files where the node keeps them: the bound PV's hostPath.
    const got: Record<string, string>[] = [];
    for (const c of pvcs) {
      const pv = JSON.parse(await k.kubectl(['get', 'pv', c.spec.volumeName, '-o', 'json']));
      got.push(await describeTree(pv.spec.hostPath.path));
    }
    expect(got.sort(byFirstKey)).toEqual(Object.values(index).sort(byFirstKey));
    const deployments = JSON.parse(await k.kubectl(['get', 'deployments', '-n', ns, '-o', 'json'])).items as any[];
    expect(deployments.map((d) => `${d.metadata.name}:${d.status.readyReplicas ?? 0}`).sort()).toEqual(['web:1', 'worker:1']);
  }, 240_000);
});

const byFirstKey = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).sort()[0].localeCompare(Object.keys(b).sort()[0]);
