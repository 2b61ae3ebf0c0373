/**
 * Builds bundles by hand for tests that need a bundle the writer would never produce: a
 * modified manifest, a different format version, a corrupted entry. Entries are re-framed as a
 * plain tar; `retrail` recomputes the trailer (and the manifest's digests) so that only the
 * intended difference remains.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { BundleReader } from '../../src/bundle/reader.js';
import { encodeHeader, padding, ZERO_BLOCK } from '../../src/bundle/tar-header.js';
import { renderTrailer } from '../../src/bundle/trailer.js';

export interface CraftEntry {
  name: string;
  data: Buffer;
}

export async function readEntries(path: string): Promise<CraftEntry[]> {
  const reader = await BundleReader.open(path);
  const file = await readFile(path);
  return [...reader.entries.values()].map((e) => ({ name: e.name, data: file.subarray(e.offset, e.offset + e.size) }));
}

export function frame(entries: CraftEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(encodeHeader({ path: e.name, type: 'File', size: e.data.length, mode: 0o644, mtime: 0, uid: 0, gid: 0 }), e.data, ZERO_BLOCK.subarray(0, padding(e.data.length)));
  }
  parts.push(ZERO_BLOCK, ZERO_BLOCK);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Recomputes the trailer over all other entries, so only the intended change differs. */
export function retrail(entries: CraftEntry[]): CraftEntry[] {
  const body = entries.filter((e) => e.name !== 'fatchart.sha256' && e.name !== 'fatchart.sig');
  const trailer = renderTrailer(body.map((e) => ({ entry: e.name, sha256: sha(e.data) })));
  return [...body, { name: 'fatchart.sha256', data: Buffer.from(trailer) }];
}

/** Rewrites the manifest with `mutate`, keeping its inventory digests consistent with the entries. */
export async function withManifest(src: string, dst: string, mutate: (m: Record<string, any>) => void): Promise<void> {
  const entries = await readEntries(src);
  const m = JSON.parse(entries[0]!.data.toString('utf8'));
  mutate(m);
  entries[0] = { name: 'fatchart.json', data: Buffer.from(JSON.stringify(m, null, 2)) };
  await writeFile(dst, frame(retrail(entries)));
}
