import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { verificationError } from '../errors.js';

/**
 * Content addressing: every blob is checked against its digest while it streams, so a layer of
 * any size is verified without being held in memory, and a short or long stream is caught on the
 * byte that makes it wrong.
 */
const SHA256 = /^sha256:([a-f0-9]{64})$/;

export function digestHex(digest: string, subject: string): string {
  const m = SHA256.exec(digest);
  if (!m) throw verificationError(`unsupported or malformed digest ${JSON.stringify(digest)}`, subject);
  return m[1];
}

export function isSha256Digest(digest: unknown): digest is string {
  return typeof digest === 'string' && SHA256.test(digest);
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Passes bytes through unchanged; fails the stream when the size or sha256 does not hold. */
export class DigestVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly digest: string,
    private readonly size: number | undefined,
    private readonly subject: string,
  ) {
    super();
    digestHex(digest, subject);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.size !== undefined && this.seen > this.size) {
      done(verificationError(`longer than the ${this.size} bytes its descriptor declares`, this.subject));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.seen !== this.size) {
      done(verificationError(`${this.seen} bytes where its descriptor declares ${this.size}`, this.subject));
      return;
    }
    const got = `sha256:${this.hash.digest('hex')}`;
    done(got === this.digest ? null : verificationError(`content is ${got}, expected ${this.digest}`, this.subject));
  }
}

/** `source` piped through a verifier; an error on either side surfaces on the returned stream. */
export function verified(source: Readable, digest: string, size: number | undefined, subject: string): Readable {
  const verifier = new DigestVerifier(digest, size, subject);
  source.on('error', (err) => verifier.destroy(err));
  verifier.on('close', () => source.destroy());
  return source.pipe(verifier);
}

/** Reads a stream to its end only to check it; nothing is kept. */
export async function drainVerified(source: Readable, digest: string, size: number | undefined, subject: string): Promise<void> {
  for await (const _chunk of verified(source, digest, size, subject)) {
    // Bytes are only hashed; dropping them keeps memory flat whatever the blob size.
  }
}

/** Reads a small stream (a manifest or config) into memory, refusing more than `limit` bytes. */
export async function readSmall(source: Readable, limit: number, subject: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      source.destroy();
      throw verificationError(`larger than ${limit} bytes, refused`, subject);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
