import type { Readable } from 'node:stream';

/**
 * Pull-based reading of exact byte counts from a stream, without copying chunks that are
 * passed through whole. The tar reader is built on it so that every consumer (indexer,
 * extractor, deep verifier) sees entries strictly in order with natural backpressure.
 */
export class ByteReader {
  private readonly source: AsyncIterator<Buffer>;
  private head: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes consumed so far (offset of the next byte). */
  position = 0;

  constructor(stream: Readable | AsyncIterable<Buffer>) {
    this.source = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.head = this.head.length ? Buffer.concat([this.head, chunk]) : chunk;
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.head.length < n && (await this.fill()));
    const out = this.head.subarray(0, n);
    this.head = this.head.subarray(out.length);
    this.position += out.length;
    return out;
  }

  /** Streams the next n bytes in the chunks they arrive in; fewer only at the end of the stream. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.head.length === 0 && !(await this.fill())) return;
      const out = this.head.subarray(0, Math.min(left, this.head.length));
      this.head = this.head.subarray(out.length);
      this.position += out.length;
      left -= out.length;
      yield out;
    }
  }

  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const c of this.chunks(n)) skipped += c.length;
    return skipped;
  }

  /** Stops the underlying stream (e.g. after an error), releasing its file handle. */
  async close(): Promise<void> {
    await this.source.return?.();
  }
}
