import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { safeName } from '../bundle/layout.js';
import { HashingStream } from '../bundle/digest.js';
import type { CheckpointSlot } from '../bundle/writer.js';
import { FatchartError } from '../errors.js';
import { archiveSuffix, detectCompression, type ArchiveCompression } from './archive.js';
import type { CheckpointFacts } from './facts.js';
import { readCheckpointFacts } from './metadata.js';

/**
 * Bundle integration: each checkpoint becomes one entry `checkpoints/<container><suffix>`, the
 * archive byte for byte (Docker captures as fatchart wrote them, imported Podman/CRI-O exports
 * exactly as exported), with its facts for the manifest's `checkpoints` section.
 */
export const checkpointEntryName = (container: string, compression: ArchiveCompression) =>
  `checkpoints/${safeName(container)}${archiveSuffix[compression]}`;

/** A checkpoint archive on local disk, with what the bundle records about it. */
export interface CheckpointFile {
  container: string;
  file: string;
  size: number;
  sha256: string;
  compression: ArchiveCompression;
  facts: CheckpointFacts;
}

export function checkpointSlot(c: CheckpointFile): CheckpointSlot {
  return {
    container: c.container,
    facts: { ...c.facts, compression: c.compression } as Record<string, unknown>,
    entry: {
      entry: checkpointEntryName(c.container, c.compression),
      size: c.size,
      sha256: c.sha256,
      open: async () => createReadStream(c.file),
    },
  };
}

/** Several containers may share a name across pods; entries must not collide. */
export function checkpointSlots(files: readonly CheckpointFile[]): CheckpointSlot[] {
  const slots = files.map(checkpointSlot);
  const seen = new Set<string>();
  for (const s of slots) {
    if (seen.has(s.entry.entry)) {
      throw new FatchartError('usage', `two checkpoints would be stored as ${s.entry.entry}; checkpoint one container of that name per bundle`, {
        subject: s.container,
      });
    }
    seen.add(s.entry.entry);
  }
  return slots;
}

/**
 * `--checkpoint-archive FILE`: an existing Podman/CRI-O/kubelet export (zstd, gzip or plain
 * tar). It is read once for its facts and hash and then stored exactly as it is.
 */
export async function importCheckpointArchive(file: string, container?: string): Promise<CheckpointFile> {
  const info = await stat(file).catch((err: unknown) => {
    throw new FatchartError('usage', `cannot read checkpoint archive: ${(err as Error).message}`, { subject: file, cause: err });
  });
  if (!info.isFile()) throw new FatchartError('usage', 'is not a file', { subject: file });
  const head = Buffer.alloc(4);
  const fh = await open(file);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const hashing = new HashingStream();
  const [{ facts }] = await Promise.all([
    readCheckpointFacts(hashing, file, container),
    pipeline(createReadStream(file), hashing),
  ]);
  if (container) facts.container = container;
  return { container: facts.container, file, size: info.size, sha256: hashing.digest(), compression: detectCompression(head), facts };
}
