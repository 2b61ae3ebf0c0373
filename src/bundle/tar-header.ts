import { Header, Pax } from 'tar';

/**
 * Tar header encoding with node-tar's Header and Pax encoders, but with every field chosen by
 * us: no atime/ctime, no user or group names, whole-second mtimes. That is what makes two packs
 * of the same input byte-identical (node-tar's own Pack writes atime into pax headers).
 */
export type TarEntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link';

export interface TarHeaderFields {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  /** Seconds since the epoch (tar's ustar precision). */
  mtime: number;
  uid: number;
  gid: number;
  linkpath?: string;
}

export const BLOCK = 512;
export const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
export const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** The header block(s) for one entry: a pax extended header first when a field overflows ustar. */
export function encodeHeader(h: TarHeaderFields): Buffer {
  const fields = {
    path: h.path,
    type: h.type,
    size: h.type === 'File' ? h.size : 0,
    mode: h.mode & 0o7777,
    mtime: new Date(h.mtime * 1000),
    uid: h.uid,
    gid: h.gid,
    linkpath: h.linkpath ?? '',
    uname: '',
    gname: '',
  };
  const block = Buffer.alloc(BLOCK);
  const header = new Header(fields);
  if (!header.encode(block)) return block;
  // Only the fields that overflowed go to the pax record, so plain entries stay plain.
  const pax = new Pax({
    path: Buffer.byteLength(h.path) > 99 || /[^\x20-\x7e]/.test(h.path) ? h.path : undefined,
    linkpath: h.linkpath && (Buffer.byteLength(h.linkpath) > 99 || /[^\x20-\x7e]/.test(h.linkpath)) ? h.linkpath : undefined,
    size: fields.size > 0o77777777777 ? fields.size : undefined,
    uid: h.uid > 0o7777777 ? h.uid : undefined,
    gid: h.gid > 0o7777777 ? h.gid : undefined,
  });
  return Buffer.concat([pax.encode(), block]);
}

/**
 * A header block for an entry whose size is not known yet: written first, rewritten in place
 * once the body is complete (see BundleFile.patchSize). The path must fit ustar (bundle entry
 * names always do), so the block is exactly 512 bytes before and after.
 */
export function encodeFixedHeader(path: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(path) > 99) throw new Error(`internal: entry name too long for a fixed header: ${path}`);
  const block = Buffer.alloc(BLOCK);
  // Sizes over 8 GiB overflow the octal field; node-tar then writes GNU base-256, which GNU tar,
  // bsdtar and node-tar all read. The "needs pax" answer is ignored on purpose here.
  new Header({ path, type: 'File', size, mode: 0o644, mtime: new Date(mtime * 1000), uid: 0, gid: 0, uname: '', gname: '' }).encode(block);
  return block;
}
