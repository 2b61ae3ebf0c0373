import { usageError, verificationError } from '../errors.js';

/**
 * The manifest shapes of the OCI image spec and their Docker predecessors. Bytes are always kept
 * as fetched (never re-serialised) so digests survive from the source registry to the target.
 */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerList]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);

/** What a pull asks for: every shape we can store, index types first. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

/** Distribution's own ceiling for manifests: anything larger is refused rather than buffered. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export const DEFAULT_PLATFORM = 'linux/amd64';

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined) throw usageError('expected OS/ARCH[/VARIANT]', `platform ${JSON.stringify(text)}`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** A requested variant must match; an unrequested one matches any (as `docker pull` does). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  return !!have && have.os === want.os && have.architecture === want.architecture && (!want.variant || have.variant === want.variant);
}

/** The mediaType a manifest declares, or the one its shape implies (old Docker lists omit it). */
export function manifestKind(doc: { mediaType?: string; manifests?: unknown }, declared?: string): 'index' | 'manifest' {
  const type = doc.mediaType ?? declared ?? '';
  if (INDEX_TYPES.has(type) || (!type && Array.isArray(doc.manifests))) return 'index';
  return 'manifest';
}

/**
 * A descriptor from a manifest we did not write (registry, bundle) names a file and a size the
 * bundle writer trusts for a tar header: both must be well-formed before anything uses them.
 */
export function checkDescriptor(d: unknown, subject: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (!o || typeof o !== 'object') throw verificationError('descriptor is not an object', subject);
  if (typeof o.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(o.digest)) {
    throw verificationError(`descriptor digest ${JSON.stringify(o.digest)} is not a sha256 digest`, subject);
  }
  if (!Number.isSafeInteger(o.size) || (o.size as number) < 0) throw verificationError(`descriptor size ${JSON.stringify(o.size)} is not a byte count`, subject);
  return o as Descriptor;
}
