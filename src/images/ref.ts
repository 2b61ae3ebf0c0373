import { usageError } from '../errors.js';

/**
 * Image references the way Docker reads them: `postgres:16` means
 * `docker.io/library/postgres:16`, the first path component is a registry only when it looks like
 * a host (has `.` or `:`, or is `localhost`), and a reference with neither tag nor digest means
 * `:latest`. Normalising is what lets `postgres:16` in a Deployment match
 * `docker.io/library/postgres:16` recorded in the bundle.
 */
export interface ImageRef {
  /** `docker.io`, `quay.io`, `127.0.0.1:5000`. */
  registry: string;
  /** `library/postgres`, `org/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

export function parseImageRef(text: string): ImageRef {
  const fail = (why: string) => usageError(`not a valid image reference: ${why}`, `image ${JSON.stringify(text)}`);
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw fail('only sha256 digests of 64 lowercase hex digits are supported');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail(`bad tag ${JSON.stringify(tag)}`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) && HOST.test(parts[0])) {
    registry = parts.shift()!;
  }
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) throw fail('bad repository name');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: parts.join('/'), tag, digest };
}

/** The fully qualified form: `docker.io/library/postgres:16`, with `@sha256:…` when pinned. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Normalises any reference text to its fully qualified form (the key of rewrite maps). */
export function normalizeImageRef(text: string): string {
  return formatImageRef(parseImageRef(text));
}

/** The host that serves the distribution API for a registry name (Docker Hub's differs). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/**
 * A push destination `host[:port][/prefix]`: images keep their repository path under the prefix,
 * so `docker.io/library/postgres` pushed to `10.0.0.5:5000/mirror` becomes
 * `10.0.0.5:5000/mirror/library/postgres`.
 */
export interface RegistryTarget {
  host: string;
  prefix: string;
}

export function parseRegistryTarget(text: string): RegistryTarget {
  const trimmed = text.trim().replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const [host, ...prefix] = trimmed.split('/');
  if (!host || !HOST.test(host) || !prefix.every((p) => COMPONENT.test(p))) {
    throw usageError('not a registry (expected HOST[:PORT][/PREFIX])', `registry ${JSON.stringify(text)}`);
  }
  return { host, prefix: prefix.join('/') };
}

export function targetRepository(target: RegistryTarget, ref: ImageRef): string {
  return target.prefix ? `${target.prefix}/${ref.repository}` : ref.repository;
}
