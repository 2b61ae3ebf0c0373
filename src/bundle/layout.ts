/**
 * Entry names inside a fat chart, in one place. The reader accepts exactly these shapes and
 * nothing else, which is the first line of defence against hostile archives.
 */
export const MANIFEST_ENTRY = 'fatchart.json';
export const TRAILER_ENTRY = 'fatchart.sha256';
export const SIGNATURE_ENTRY = 'fatchart.sig';
export const CHART_DIR = 'chart';
export const CHART_FILE = 'chart/Chart.yaml';
export const VALUES_FILE = 'chart/values.yaml';

/** File-name-safe form of a Kubernetes kind or object name (they are DNS-like already). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
}

const seq = (i: number) => String(i).padStart(4, '0');

export const templateEntry = (i: number, kind: string, name: string) =>
  `chart/templates/${seq(i)}-${safeName(kind.toLowerCase())}-${safeName(name)}.yaml`;
export const originalEntry = (i: number, kind: string, name: string) =>
  `originals/${seq(i)}-${safeName(kind.toLowerCase())}-${safeName(name)}.json`;
export const volumeDataEntry = (volume: string) => `volumes/${safeName(volume)}.tar.zst`;
export const volumeIndexEntry = (volume: string) => `volumes/${safeName(volume)}.index.jsonl`;

/** Every entry name the v1 reader will accept (the trailer must then account for each). */
export const allowedEntryPattern =
  /^(fatchart\.(json|sha256|sig)|chart\/(Chart\.yaml|values\.yaml|templates\/[A-Za-z0-9._-]+\.yaml)|originals\/[A-Za-z0-9._-]+\.json|volumes\/[A-Za-z0-9._-]+\.(tar\.zst|index\.jsonl)|checkpoints\/[A-Za-z0-9._-]+|images\/(oci-layout|index\.json|blobs\/sha256\/[0-9a-f]{64}))$/;
