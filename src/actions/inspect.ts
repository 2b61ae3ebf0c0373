import { BundleReader } from '../bundle/reader.js';
import type { Manifest } from '../bundle/manifest.js';

export interface InspectReport {
  path: string;
  identity: string;
  manifest: Manifest;
  entries: number;
  fileBytes: number;
}

/** Reads the manifest and structure (headers, trailer); does not hash the data (that is `verify`). */
export async function inspect(path: string): Promise<InspectReport> {
  const reader = await BundleReader.open(path);
  const fileBytes = [...reader.entries.values()].reduce((n, e) => n + e.size, 0);
  return { path, identity: reader.identity, manifest: reader.manifest, entries: reader.entries.size, fileBytes };
}
