import type { Manifest } from '../bundle/manifest.js';
import { openBundle, type TrustOptions } from '../security/open.js';
import type { RunContext } from '../util/context.js';

export interface InspectReport {
  path: string;
  identity: string;
  manifest: Manifest;
  entries: number;
  fileBytes: number;
  encrypted: boolean;
}

/**
 * Reads the manifest and structure (headers, trailer); does not hash the data (that is
 * `verify`). An age-encrypted bundle is decrypted first, which needs its key.
 */
export async function inspect(path: string, trust: TrustOptions, ctx: RunContext): Promise<InspectReport> {
  const opened = await openBundle(path, trust, ctx);
  try {
    const reader = opened.reader;
    const fileBytes = [...reader.entries.values()].reduce((n, e) => n + e.size, 0);
    return { path, identity: reader.identity, manifest: reader.manifest, entries: reader.entries.size, fileBytes, encrypted: opened.encrypted };
  } catch (err) {
    throw opened.explain(err);
  } finally {
    await opened.release();
  }
}
