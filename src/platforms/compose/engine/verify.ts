import { indexTar, type IndexRecord } from '../../../bundle/volume-index.js';
import { verificationError } from '../../../errors.js';
import type { Engine } from './client.js';
import { volumeTar } from './volume-source.js';

/** The fields a restored file must match; owners only when the restore kept them. */
const compared = ['type', 'size', 'mode', 'mtime', 'linkname', 'sha256'] as const;
const owners = ['uid', 'gid'] as const;

export interface VolumeVerification {
  files: number;
  bytes: number;
}

/**
 * Re-reads a restored volume through the engine and compares every member with the bundle's
 * index: nothing missing, nothing extra, every field equal. Throws a verification error naming
 * the first differences.
 */
export async function verifyVolume(
  engine: Engine,
  volume: string,
  expected: Iterable<IndexRecord> | AsyncIterable<IndexRecord>,
  options: { compareOwners?: boolean; preservePerms?: boolean } = {},
): Promise<VolumeVerification> {
  const want = new Map<string, IndexRecord>();
  for await (const rec of expected) want.set(rec.path, rec);
  const fields = options.compareOwners === false ? compared : [...compared, ...owners];
  const problems: string[] = [];
  const stats = await indexTar(await volumeTar(engine, volume), (got) => {
    const rec = want.get(got.path);
    if (!rec) return void problems.push(`${got.path}: not in the bundle index`);
    want.delete(got.path);
    // Without preservePerms the restore stripped setuid/setgid/sticky on purpose.
    const expected = options.preservePerms ? rec : { ...rec, mode: rec.mode & ~0o7000 };
    for (const f of fields) {
      if ((expected[f] ?? undefined) !== (got[f] ?? undefined)) problems.push(`${got.path}: ${f} is ${String(got[f])}, the index says ${String(expected[f])}`);
    }
  });
  for (const path of want.keys()) problems.push(`${path}: missing after restore`);
  if (problems.length) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw verificationError(`restored data differs from the bundle index: ${problems.slice(0, 5).join('; ')}${more}`, `volume ${volume}`);
  }
  return { files: stats.files, bytes: stats.dataBytes };
}
