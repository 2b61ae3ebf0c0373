import { FatchartError } from '../errors.js';
import { indexTar, type IndexRecord } from '../bundle/volume-index.js';
import type { RunContext } from '../util/context.js';
import { counted } from '../util/lines.js';
import { openBundle, type TrustOptions } from '../security/open.js';
import type { BundleReader } from '../bundle/reader.js';

const PROGRESS_MIN_BYTES = 8 << 20;

export interface VerifyReport {
  path: string;
  intact: boolean;
  identity: string;
  formatVersion: string;
  entries: number;
  bytes: number;
  /** What was checked, in words, for the human report. */
  checked: string[];
  /** Key id of the signer, set only when the signature was checked against a trusted key. */
  signedBy?: string;
  /** Key id the manifest names when no --key was given to check it. */
  claimedSigner?: string;
  encrypted?: boolean;
  /** Set when verification failed: the first problem, naming the entry. */
  problem?: { code: string; message: string };
}

/**
 * Checks every entry against the trailer; with `deep`, also decompresses every volume and
 * recomputes every file's digest and metadata against the volume index.
 */
export async function verify(path: string, options: { deep?: boolean; trust?: TrustOptions }, ctx: RunContext): Promise<VerifyReport> {
  const opened = await openBundle(path, options.trust ?? {}, ctx);
  try {
    const { reader, signature } = opened;
    const m = reader.manifest;
    const checked = ['manifest schema and format version', `trailer covers all ${reader.entries.size - (signature.keyId ? 2 : 1)} entries`];
    if (opened.encrypted) checked.unshift('age decryption and authentication of the whole archive');
    if (signature.state === 'verified') checked.push(`Ed25519 signature over the trailer by trusted key ${signature.keyId}`);
    let bytes = 0;
    for (const name of reader.entries.keys()) {
      if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted');
      const info = reader.entries.get(name)!;
      const progress = ctx.progress.start(`check ${name}`, info.size);
      for await (const chunk of reader.openEntry(name)) progress.advance((chunk as Buffer).length);
      progress.done();
      bytes += info.size;
    }
    checked.push(`sha256 of every entry (${bytes} bytes)`);
    if (options.deep) {
      for (const v of m.volumes) await deepCheckVolume(reader, v.name, ctx);
      checked.push(`every file of ${m.volumes.length} volume(s) decompressed and re-hashed against its index (${m.plan.files} files, ${m.plan.dataBytes} bytes)`);
    }
    return {
      path,
      intact: true,
      identity: reader.identity,
      formatVersion: m.formatVersion,
      entries: reader.entries.size,
      bytes,
      checked,
      ...(signature.state === 'verified' ? { signedBy: signature.keyId } : {}),
      ...(signature.state === 'claimed' ? { claimedSigner: signature.keyId } : {}),
      encrypted: opened.encrypted,
    };
  } catch (err) {
    throw opened.explain(err);
  } finally {
    await opened.release();
  }
}

async function deepCheckVolume(reader: BundleReader, name: string, ctx: RunContext): Promise<void> {
  const v = reader.volume(name);
  const subject = `${reader.path}:${v.entry}`;
  const expected = reader.volumeIndex(name)[Symbol.asyncIterator]();
  const progress = ctx.progress.start(`deep ${name}`, v.stats.dataBytes);
  try {
    const tar = counted(reader.volumeTar(name), (n) => progress.advance(n));
    await indexTar(tar, async (got) => {
      const want = (await expected.next()).value as IndexRecord | undefined;
      if (!want) throw new FatchartError('verification', 'member is not in the volume index', { subject: `${subject}: ${got.path}` });
      for (const key of ['path', 'type', 'size', 'mode', 'mtime', 'uid', 'gid', 'linkname', 'sha256'] as const) {
        if ((got[key] ?? '') !== (want[key] ?? '')) {
          throw new FatchartError('verification', `${key} differs from the volume index`, { subject: `${subject}: ${got.path}` });
        }
      }
    });
    if (!(await expected.next()).done) throw new FatchartError('verification', 'volume index lists members the data does not hold', { subject });
    progress.done();
  } catch (err) {
    progress.done('failed');
    if (err instanceof FatchartError) throw err;
    throw new FatchartError('verification', `volume data is corrupt: ${(err as Error).message}`, { subject, cause: err });
  } finally {
    await expected.return?.(undefined);
  }
}
