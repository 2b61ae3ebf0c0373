/**
 * Builds the test images locally, with no registry or network: a busybox rootfs (Debian's
 * busybox-static) as one layer plus small extra layers, written as OCI manifests and configs into
 * an OCI layout folder. Two images share the busybox layer; a multi-arch index holds an amd64 and
 * an arm64 image. The folder is then copied into a real registry with skopeo.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUSYBOX = '/bin/busybox';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuiltLayout {
  dir: string;
  /** `ref.name → manifest (or index) digest`. */
  names: Record<string, string>;
  /** The busybox layer's digest, shared by app-a and app-b. */
  sharedLayer: string;
}

/** A deterministic gzip'd tar of a folder (sorted, zero mtimes and owners). */
function tarLayer(root: string): { gz: Buffer; diffId: string } {
  const tar = execFileSync('tar', ['-C', root, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '.'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return { gz: gzipSync(tar), diffId: sha(tar) };
}

export function buildTestLayout(): BuiltLayout {
  const work = mkdtempSync(join(tmpdir(), 'fatchart-images-build-'));
  const dir = join(work, 'layout');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer, mediaType: string): Blob => {
    const digest = sha(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  let n = 0;
  const layer = (fill: (root: string) => void) => {
    const root = join(work, `rootfs-${n++}`);
    mkdirSync(root, { recursive: true });
    fill(root);
    const { gz, diffId } = tarLayer(root);
    return { blob: put(gz, 'application/vnd.oci.image.layer.v1.tar+gzip'), diffId };
  };
  const busybox = layer((root) => {
    mkdirSync(join(root, 'bin'));
    copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'ls', 'cat', 'echo']) symlinkSync('busybox', join(root, 'bin', applet));
  });
  const textLayer = (file: string, text: string) =>
    layer((root) => {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc', file), text);
    });
  const image = (arch: string, layers: Array<{ blob: Blob; diffId: string }>) => {
    const config = {
      architecture: arch,
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    };
    const cfg = put(Buffer.from(JSON.stringify(config)), 'application/vnd.oci.image.config.v1+json');
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: layers.map((l) => l.blob) };
    return put(Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  };
  const appA = image('amd64', [busybox, textLayer('app-a.txt', 'app a\n')]);
  const appB = image('amd64', [busybox, textLayer('app-b.txt', 'app b\n'), textLayer('app-b-extra.txt', 'more of b\n')]);
  const multiAmd = image('amd64', [busybox, textLayer('arch.txt', 'amd64\n')]);
  const multiArm = image('arm64', [textLayer('arch.txt', 'arm64\n')]);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...multiAmd, platform: { os: 'linux', architecture: 'amd64' } },
      { ...multiArm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  };
  const multi = put(Buffer.from(JSON.stringify(index)), index.mediaType);
  const names = { 'app-a': appA.digest, 'app-b': appB.digest, multi: multi.digest };
  const top = {
    schemaVersion: 2,
    manifests: [
      { ...appA, annotations: { 'org.opencontainers.image.ref.name': 'app-a' } },
      { ...appB, annotations: { 'org.opencontainers.image.ref.name': 'app-b' } },
      { ...multi, annotations: { 'org.opencontainers.image.ref.name': 'multi' } },
    ],
  };
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify(top));
  return { dir, names, sharedLayer: busybox.blob.digest };
}

/** `skopeo copy` with digests preserved, to or from plain-HTTP registries on 127.0.0.1. */
export function skopeo(...args: string[]): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function skopeoCopyToRegistry(layoutDir: string, name: string, dest: string, creds?: string): void {
  skopeo('copy', '--all', '--preserve-digests', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layoutDir}:${name}`, `docker://${dest}`);
}
