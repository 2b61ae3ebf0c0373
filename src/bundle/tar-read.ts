import { Header, Pax } from 'tar';
import type { Readable } from 'node:stream';
import { ByteReader } from './byte-reader.js';
import { BLOCK, padding, type TarHeaderFields } from './tar-header.js';

/** One entry as the reader sees it, after pax/GNU extensions are applied. */
export interface TarEntry extends Omit<TarHeaderFields, 'type'> {
  /** node-tar's type names: File, OldFile, Directory, SymbolicLink, Link, FIFO, CharacterDevice, … */
  type: string;
  /** Offset of the entry's data in the stream. */
  offset: number;
  /** The body; must be consumed (or left to the iterator, which skips it) before the next entry. */
  body: AsyncGenerator<Buffer>;
}

export class TarFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TarFormatError';
  }
}

/** Limit on pax/GNU long-name bodies: real ones are tiny; huge ones are an attack. */
const MAX_META = 1 << 20;

/**
 * Iterates a tar stream. Strict: a bad header checksum, a stream that ends inside an entry, or a
 * missing end-of-archive marker is a TarFormatError with the offset, never a silent stop.
 */
export async function* readTar(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(stream);
  let extended: Record<string, unknown> | undefined;
  let globalExtended: Record<string, unknown> | undefined;
  let longPath: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const at = reader.position;
      const block = await reader.read(BLOCK);
      if (block.length === 0) throw new TarFormatError('archive ends without the end-of-archive marker (truncated?)', at);
      if (block.length < BLOCK) throw new TarFormatError('archive ends inside a header block (truncated)', at);
      if (block.every((b) => b === 0)) return;
      const header = new Header(block, 0, extended as never, globalExtended as never);
      if (!header.cksumValid) throw new TarFormatError('header checksum mismatch (corrupt archive)', at);
      const size = header.size ?? 0;
      const typeKey = header.typeKey;
      if (typeKey === 'x' || typeKey === 'g' || typeKey === 'L' || typeKey === 'K') {
        if (size > MAX_META) throw new TarFormatError(`extended header of ${size} bytes is too large`, at);
        const body = await reader.read(size);
        if (body.length < size) throw new TarFormatError('archive ends inside an extended header', at);
        await reader.skip(padding(size));
        const text = body.toString('utf8');
        if (typeKey === 'x') extended = { ...(extended ?? {}), ...Pax.parse(text, extended as never, false) };
        else if (typeKey === 'g') globalExtended = { ...(globalExtended ?? {}), ...Pax.parse(text, globalExtended as never, true) };
        else if (typeKey === 'L') longPath = text.replace(/\0.*$/s, '');
        else longLink = text.replace(/\0.*$/s, '');
        continue;
      }
      const entry = {
        path: longPath ?? header.path ?? '',
        type: header.type as string,
        size: hasBody(header.type as string) ? size : 0,
        mode: header.mode ?? 0,
        mtime: header.mtime ? Math.floor(header.mtime.getTime() / 1000) : 0,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        linkpath: longLink ?? (header.linkpath || undefined),
        offset: reader.position,
      };
      extended = undefined;
      longPath = undefined;
      longLink = undefined;
      let consumed = 0;
      const body = (async function* () {
        for await (const chunk of reader.chunks(entry.size)) {
          consumed += chunk.length;
          yield chunk;
        }
      })();
      yield { ...entry, body };
      // Whatever the consumer left unread is skipped here, so entries stay in step.
      if (consumed < entry.size) consumed += await reader.skip(entry.size - consumed);
      if (consumed < entry.size) throw new TarFormatError(`archive ends inside entry ${entry.path} (truncated)`, reader.position);
      const pad = padding(entry.size);
      if ((await reader.skip(pad)) < pad) throw new TarFormatError('archive ends inside entry padding (truncated)', reader.position);
    }
  } finally {
    await reader.close();
  }
}

/** Only regular files carry data; a link or directory header's size field is ignored. */
function hasBody(type: string): boolean {
  return type === 'File' || type === 'OldFile' || type === 'ContiguousFile';
}

/** Normalises a path inside a volume tar: no leading `./` or `/`, no trailing `/`; the root is `.`. */
export function normalizeMemberPath(path: string): string {
  let p = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (p === '' || p === '.') p = '.';
  return p;
}
