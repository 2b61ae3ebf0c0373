/**
 * Newline-separated lines, pulled from a byte stream only as fast as the consumer takes them.
 * (readline's async iterator reads ahead of a slow consumer and queues every line, which made
 * memory grow with the number of files in a volume index.)
 */
export async function* readLines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  // Lines are cut at newline bytes and decoded one by one into fresh strings: slicing one growing
  // string instead keeps every earlier chunk alive through V8's sliced and cons strings. A
  // newline byte never occurs inside a multi-byte UTF-8 sequence, so cutting bytes is safe.
  let rest = Buffer.alloc(0);
  for await (const chunk of stream) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      yield buf.toString('utf8', start, nl);
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  if (rest.length) yield rest.toString('utf8');
}

/** Counts bytes as a consumer pulls them, without switching the stream to flowing mode. */
export async function* counted(stream: AsyncIterable<Buffer>, advance: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    advance(chunk.length);
    yield chunk;
  }
}
