/**
 * Shared set-up of the volume-data tests: hostPath PersistentVolumes in a private storage class
 * (so concurrent suites never bind each other's volumes), a workload that mounts a claim, file
 * trees with every kind of entry, and a tree digest to compare source and target byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, createReadStream } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeLab } from '../support/components/k8s.js';
import type { KubeObject } from '../../src/model/object.js';

export const labImage = 'lab.local/busybox:bookworm';

// The driver tests' recorder: what the driver says, for assertions.
export { recordingContext } from '../k8s/support.js';


export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A private static storage class and hostPath PVs in it, all removed by `cleanup`. */
export class Volumes {
  readonly storageClass = `fc-data-${Math.random().toString(36).slice(2, 8)}`;
  readonly root = tempDir('fc-data-pv-');
  private pvs: string[] = [];
  constructor(private readonly lab: KubeLab) {}

  async init(): Promise<void> {
    await this.lab.apply([{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: this.storageClass }, provisioner: 'kubernetes.io/no-provisioner' }]);
  }

  /** A PV whose files live in the returned host directory. */
  async pv(name: string, size = '4Gi'): Promise<string> {
    const path = join(this.root, name);
    mkdirSync(path, { recursive: true });
    this.pvs.push(name);
    await this.lab.apply([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, labels: { 'fatchart-test': 'true' } },
        spec: {
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: this.storageClass,
          hostPath: { path, type: 'Directory' },
        },
      },
    ]);
    return path;
  }

  claim(name: string, size = '1Gi'): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, labels: { app: 'datatest' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: this.storageClass, resources: { requests: { storage: size } } },
    };
  }

  async cleanup(): Promise<void> {
    for (const pv of this.pvs.splice(0)) await this.lab.kubectl(['delete', 'pv', pv, '--wait=false']).catch(() => {});
    await this.lab.kubectl(['delete', 'storageclass', this.storageClass, '--wait=false']).catch(() => {});
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A Deployment (label app=datatest) whose pod mounts the claims; annotations go on its pods. */
export function writer(name: string, claims: string[], annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: 'datatest' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'datatest', tier: name } },
      template: {
        metadata: { labels: { app: 'datatest', tier: name }, annotations },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: labImage,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
              volumeMounts: claims.map((c) => ({ name: c, mountPath: `/mnt/${c}` })),
            },
          ],
          volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
        },
      },
    },
  };
}

/**
 * Fills `dir` with every kind of entry a volume holds: random binary data, an empty file, empty
 * and nested directories, relative/absolute/dangling symlinks, hard links, unicode and space
 * names, unusual permissions and owners, and optionally a sparse file over 1 GiB.
 */
export function variedTree(dir: string, opts: { sparse?: boolean } = {}): void {
  mkdirSync(join(dir, 'bin', 'deep', 'er'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'random.bin'), randomBytes(3 << 20));
  writeFileSync(join(dir, 'bin', 'deep', 'er', 'small.txt'), 'hello\n');
  writeFileSync(join(dir, 'empty-file'), '');
  mkdirSync(join(dir, 'empty-dir'));
  mkdirSync(join(dir, 'locked-dir'), { mode: 0o700 });
  writeFileSync(join(dir, 'Ünïcödé 名前 ✓.txt'), 'unicode\n');
  writeFileSync(join(dir, 'with space & quote\'s.txt'), 'spaces\n');
  writeFileSync(join(dir, 'a'.repeat(120) + '.long'), 'long name\n');
  mkdirSync(join(dir, 'x'.repeat(90), 'y'.repeat(90)), { recursive: true });
  writeFileSync(join(dir, 'x'.repeat(90), 'y'.repeat(90), 'z'.repeat(80)), 'long path\n');
  symlinkSync('bin/random.bin', join(dir, 'link-rel'));
  symlinkSync('/etc/hostname', join(dir, 'link-abs'));
  symlinkSync('does/not/exist', join(dir, 'link-dangling'));
  linkSync(join(dir, 'bin', 'random.bin'), join(dir, 'hard-link.bin'));
  writeFileSync(join(dir, 'script.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'script.sh'), 0o755);
  writeFileSync(join(dir, 'secret.key'), randomBytes(64));
  chmodSync(join(dir, 'secret.key'), 0o600);
  writeFileSync(join(dir, 'setgid-dir-file'), 'x');
  chmodSync(join(dir, 'setgid-dir-file'), 0o2640);
  execFileSync('chown', ['-h', '1234:5678', join(dir, 'secret.key')]);
  if (opts.sparse) {
    // 1.1 GiB apparent, a few KiB allocated: data at the start, in the middle and at the end.
    const f = join(dir, 'sparse.img');
    execFileSync('truncate', ['-s', '1100M', f]);
    execFileSync('sh', ['-c', `printf head | dd of='${f}' conv=notrunc status=none; printf middle | dd of='${f}' bs=1M seek=600 conv=notrunc status=none; printf tail | dd of='${f}' bs=1 seek=$((1100*1024*1024-4)) conv=notrunc status=none`]);
  }
}

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  link?: string;
  /** Index of the hard-link group (entries sharing an inode). */
  inode?: number;
}

/** Every entry of a directory tree with what must survive the trip (not mtimes of directories). */
export async function treeOf(dir: string): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const inodes = new Map<number, number>();
  const walk = async (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const e: TreeEntry = { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0 };
      if (st.isFile()) {
        const h = createHash('sha256');
        for await (const c of createReadStream(join(dir, path))) h.update(c as Buffer);
        e.sha256 = h.digest('hex');
        if (st.nlink > 1) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, inodes.size);
          e.inode = inodes.get(st.ino);
        }
      }
      if (st.isSymbolicLink()) {
        e.link = readlinkSync(join(dir, path));
        e.mode = 0;
      }
      out[path] = e;
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out;
}

export const readText = (p: string) => readFileSync(p, 'utf8');

/** Waits until the namespace's claims are Bound. */
export async function waitBound(lab: KubeLab, namespace: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = JSON.parse(await lab.kubectl(['get', 'pvc', '-n', namespace, '-o', 'json']));
    if (list.items.length && list.items.every((c: any) => c.status?.phase === 'Bound')) return;
    if (Date.now() > deadline) throw new Error(`claims in ${namespace} not bound`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function waitReady(lab: KubeLab, namespace: string, deployment: string): Promise<void> {
  await lab.kubectl(['rollout', 'status', `deployment/${deployment}`, '-n', namespace, '--timeout=120s']);
}
