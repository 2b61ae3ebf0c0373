import { FatchartError } from '../errors.js';
import { isSha256Hex, sha256Hex } from './digest.js';

/**
 * The checksum trailer (`fatchart.sha256`): one `sha256sum` line per entry, in archive order,
 * for every entry but itself and the signature. After `tar -xf`, `sha256sum -c fatchart.sha256`
 * checks the extracted files with standard tools. The bundle's identity is the digest of this
 * trailer, and the signature signs that identity.
 */
export interface TrailerLine {
  sha256: string;
  entry: string;
}

export const renderTrailer = (lines: readonly TrailerLine[]): string => lines.map((l) => `${l.sha256}  ${l.entry}\n`).join('');

export const identityOf = (trailerText: string | Buffer): string => `sha256:${sha256Hex(trailerText)}`;

export function parseTrailer(text: string, subject: string): TrailerLine[] {
  if (text.length > 0 && !text.endsWith('\n')) throw new FatchartError('verification', 'trailer is truncated', { subject });
  const out: TrailerLine[] = [];
  for (const [i, line] of text.split('\n').slice(0, -1).entries()) {
    const m = /^([0-9a-f]{64}) {2}(\S.*)$/.exec(line);
    if (!m || !isSha256Hex(m[1]!)) throw new FatchartError('verification', `trailer line ${i + 1} is malformed`, { subject });
    out.push({ sha256: m[1]!, entry: m[2]! });
  }
  return out;
}
