import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { HashingStream, sha256Hex } from '../bundle/digest.js';
import { FatchartError } from '../errors.js';
import { blobPath, layoutIndex, OCI_LAYOUT_FILE, OCI_LAYOUT_TEXT, INDEX_FILE, serializeIndex } from '../images/layout.js';
import { MediaType, REF_NAME_ANNOTATION, type Descriptor } from '../images/media.js';
import { openTar } from './archive.js';
import type { CheckpointFacts } from './facts.js';

/**
 * The checkpoint OCI image CRI-O restores from (Kubernetes "restore from checkpoint image"): one
 * layer holding the checkpoint archive's contents as they are (`config.dump`, `spec.dump`,
 * `checkpoint/`, `rootfs-diff.tar`, …), and the manifest annotations CRI-O reads — the
 * `…checkpoint.name` annotation is what makes CRI-O treat the image as a checkpoint; the others
 * describe its origin. A pod whose container `image` names it is restored instead of started.
 *
 * Restorable by CRI-O ≥ 1.25 with `enable_criu_support = true` (and crun or runc with CRIU) from
 * archives CRI-O made (kubelet checkpoint API), since it needs CRI-O's own `spec.dump` and
 * `config.dump`. containerd 2.x restores such images through its CRI plugin as well. Docker and
 * Podman archives are carried too but only their own engines restore them.
 */
export const CHECKPOINT_ANNOTATION_PREFIX = 'io.kubernetes.cri-o.annotations.checkpoint';

/** Fact → annotation suffix, in the order written. Missing facts are left out, never invented. */
const annotationTable: ReadonlyArray<[string, (f: CheckpointFacts) => string | undefined]> = [
  ['name', (f) => f.container],
  ['rawImageName', (f) => f.image],
  ['rootfsImageID', (f) => f.imageId],
  ['rootfsImageName', (f) => f.image],
  ['cri-o.version', (f) => (f.engine === 'cri-o' ? f.engineVersion : undefined)],
  ['criu.version', (f) => f.criuVersion],
];

export function checkpointAnnotations(facts: CheckpointFacts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [suffix, get] of annotationTable) {
    const v = get(facts);
    if (v) out[`${CHECKPOINT_ANNOTATION_PREFIX}.${suffix}`] = v;
  }
  return out;
}

/** `uname -m` → OCI/Go architecture names, for the image config. */
const ociArch: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', arm: 'arm', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loongarch64: 'loong64', mips64: 'mips64le' };

export interface CheckpointImage {
  /** The layout folder (written via a temp folder and renamed into place). */
  dir: string;
  /** `org.opencontainers.image.ref.name`, for `oci:DIR:REF`. */
  ref: string;
  manifest: Descriptor;
  layer: Descriptor;
  annotations: Record<string, string>;
}

/**
 * Writes an OCI image layout at `dir` (which must not exist) holding the checkpoint image for
 * one archive. The layer is the archive's own tar, gzip-compressed; `ref` names it in the index.
 */
export async function buildCheckpointImage(archive: Readable, facts: CheckpointFacts, dir: string, ref = `checkpoint-${facts.container}`): Promise<CheckpointImage> {
  if (!facts.architecture) throw new FatchartError('unsupported', 'records no CPU architecture; cannot label a checkpoint image', { subject: `checkpoint ${facts.container}` });
  const stage = await mkdtemp(join(dirname(dir), '.fatchart-cpimage-'));
  try {
    await mkdir(join(stage, 'blobs/sha256'), { recursive: true });
    const { tar } = await openTar(archive);
    const diff = new HashingStream();
    const compressed = new HashingStream();
    const layerTmp = join(stage, 'layer.tmp');
    await pipeline(tar, diff, createGzip(), compressed, createWriteStream(layerTmp));
    const layer: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${compressed.digest()}`, size: compressed.bytes };
    await rename(layerTmp, join(stage, blobPath(layer.digest)));

    const config = Buffer.from(
      JSON.stringify({
        ...(facts.checkpointedAt ? { created: facts.checkpointedAt } : {}),
        architecture: ociArch[facts.architecture] ?? facts.architecture,
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [`sha256:${diff.digest()}`] },
      }),
    );
    const configDesc: Descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256Hex(config)}`, size: config.length };
    const annotations = checkpointAnnotations(facts);
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [layer], annotations }),
    );
    const manifestDesc: Descriptor = {
      mediaType: MediaType.ociManifest,
      digest: `sha256:${sha256Hex(manifest)}`,
      size: manifest.length,
      annotations: { [REF_NAME_ANNOTATION]: ref },
    };
    await writeFile(join(stage, blobPath(configDesc.digest)), config);
    await writeFile(join(stage, blobPath(manifestDesc.digest)), manifest);
    await writeFile(join(stage, OCI_LAYOUT_FILE), OCI_LAYOUT_TEXT);
    await writeFile(join(stage, INDEX_FILE), serializeIndex(layoutIndex([manifestDesc])));
    await rename(stage, dir).catch((err: unknown) => {
      throw new FatchartError('platform', `cannot create the checkpoint image layout: ${(err as Error).message}`, { subject: dir, cause: err });
    });
    return { dir, ref, manifest: manifestDesc, layer, annotations };
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    throw err;
  }
}
