import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/** The offline platform's contract, through the CLI: clear one-line errors, distinct exit codes, nothing half-written. */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-manifests-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function app(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    if (rel.endsWith('/')) await mkdir(join(dir, rel), { recursive: true });
    else await writeFile(join(dir, rel), text);
  }
  return dir;
}

const pvc = (name: string) => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: { requests: { storage: 1Gi } }\n`;
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('fatchart:'));

describe('pack --source manifests', () => {
  it('reads multi-document files and Lists, cleans server fields, keeps originals raw', async () => {
    const dir = await app('lists', {
      'all.yaml': `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: { name: a, namespace: prod, uid: 1234, resourceVersion: "9" }\n    data: { k: v }\n---\n${pvc('data')}`,
    });
    const out = join(work, 'lists.fatchart');
    const r = await runCli(['pack', dir, '-o', out, '--name', 'lists']);
    expect(r.code).toBe(0);
    const inspect = JSON.parse((await runCli(['inspect', out, '--json'])).stdout);
    expect(inspect.manifest.objects.map((o: { kind: string }) => o.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim']);
    expect(inspect.manifest.source.namespace).toBe('prod');
    const unpacked = join(work, 'lists-out');
    expect((await runCli(['unpack', out, '--out', unpacked])).code).toBe(0);
    const files = await readdir(join(unpacked, 'manifests'));
    const cm = await import('node:fs/promises').then((fs) => fs.readFile(join(unpacked, 'manifests', files[0]!), 'utf8'));
    expect(cm).not.toMatch(/uid|resourceVersion|namespace/);
  });

  it('names the file of invalid YAML, exit 1', async () => {
    const dir = await app('bad-yaml', { 'x.yaml': 'kind: [unclosed\n' });
    const r = await runCli(['pack', dir, '-o', join(work, 'bad.fatchart')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^fatchart: x\.yaml: not valid YAML/)]);
    expect(existsSync(join(work, 'bad.fatchart'))).toBe(false);
  });

  it('names a data folder that matches no claim', async () => {
    const dir = await app('orphan', { 'pvc.yaml': pvc('db'), 'data/dbb/file': 'x' });
    const r = await runCli(['pack', dir, '-o', join(work, 'orphan.fatchart')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)[0]).toMatch(/data\/dbb: no PersistentVolumeClaim named "dbb" among the objects \(claims: db\)/);
  });

  it('maps StatefulSet claim templates to data/<template>-<set>-<ordinal>', async () => {
    const sts = `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: db }\nspec:\n  replicas: 2\n  serviceName: db\n  selector: { matchLabels: { app: db } }\n  template:\n    metadata: { labels: { app: db } }\n    spec: { containers: [{ name: db, image: "db:1" }] }\n  volumeClaimTemplates:\n    - metadata: { name: data }\n      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }\n`;
    const dir = await app('sts', { 'sts.yaml': sts, 'data/data-db-0/a': 'zero', 'data/data-db-1/a': 'one' });
    const out = join(work, 'sts.fatchart');
    expect((await runCli(['pack', dir, '-o', out])).code).toBe(0);
    const m = JSON.parse((await runCli(['inspect', out, '--json'])).stdout).manifest;
    expect(m.volumes.map((v: { name: string }) => v.name)).toEqual(['data-db-0', 'data-db-1']);
    expect(m.plan.storageRequestedBytes).toBe(2 * 1024 ** 3);
  });

  it('refuses an object defined twice', async () => {
    const dir = await app('dup', { 'a.yaml': pvc('x'), 'b.yaml': pvc('x') });
    const r = await runCli(['pack', dir, '-o', join(work, 'dup.fatchart')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)[0]).toMatch(/PersistentVolumeClaim\/x: defined twice/);
  });
});

describe('unpack --target manifests', () => {
  it('refuses a non-empty --out and leaves it untouched', async () => {
    const dir = await app('small', { 'pvc.yaml': pvc('d'), 'data/d/f': 'data' });
    const bundle = join(work, 'small.fatchart');
    expect((await runCli(['pack', dir, '-o', bundle])).code).toBe(0);
    const out = await app('occupied', { 'keep.txt': 'mine' });
    const r = await runCli(['unpack', bundle, '--out', out]);
    expect(r.code).toBe(1);
    expect(await readdir(out)).toEqual(['keep.txt']);
  });

  it('--skip-data and --only-volume', async () => {
    const dir = await app('two', { 'pvc.yaml': `${pvc('a')}---\n${pvc('b')}`, 'data/a/f': 'a', 'data/b/f': 'b' });
    const bundle = join(work, 'two.fatchart');
    expect((await runCli(['pack', dir, '-o', bundle])).code).toBe(0);
    const skip = join(work, 'two-skip');
    expect((await runCli(['unpack', bundle, '--out', skip, '--skip-data'])).code).toBe(0);
    expect(existsSync(join(skip, 'data'))).toBe(false);
    const only = join(work, 'two-only');
    expect((await runCli(['unpack', bundle, '--out', only, '--only-volume', 'b'])).code).toBe(0);
    expect(await readdir(join(only, 'data'))).toEqual(['b']);
  });
});

describe('unpack applies the target rewrites, as convert does', () => {
  it('--map-storage-class, --registry-mirror and --replicas reach the written manifests', async () => {
    const deploy = `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 1\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec: { containers: [{ name: web, image: "docker.io/library/nginx:1.25" }] }\n`;
    const dir = await app('rewrite', { 'app.yaml': `${deploy}---\n${pvc('d')}`, 'data/d/f': 'x' });
    const bundle = join(work, 'rewrite.fatchart');
    expect((await runCli(['pack', dir, '-o', bundle])).code).toBe(0);
    const out = join(work, 'rewrite-out');
    const r = await runCli(['unpack', bundle, '--out', out, '--map-storage-class', '*=fast', '--registry-mirror', 'docker.io=mirror.local:5000', '--replicas', 'web=3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/rewrite registry-mirror: Deployment\/web/);
    const text = (await Promise.all((await readdir(join(out, 'manifests'))).map((f) => import('node:fs/promises').then((fs) => fs.readFile(join(out, 'manifests', f), 'utf8'))))).join('');
    expect(text).toContain('image: mirror.local:5000/library/nginx:1.25');
    expect(text).toContain('storageClassName: fast');
    expect(text).toContain('replicas: 3');
  });
});

describe('CLI conventions', () => {
  it('unknown options are usage errors, exit 1', async () => {
    const r = await runCli(['pack', '--no-such-flag']);
    expect(r.code).toBe(1);
  });

  it('every command has --help with examples', async () => {
    for (const cmd of ['pack', 'unpack', 'verify', 'inspect', 'demo']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
    }
  });

  it('a missing bundle is a usage error naming the file', async () => {
    const r = await runCli(['verify', join(work, 'nope.fatchart')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)[0]).toContain('nope.fatchart');
  });
});
