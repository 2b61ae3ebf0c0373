/** Kubernetes object names (RFC 1123 labels): lowercase alphanumerics and `-`, at most 63. */
export function dnsName(name: string): string {
  const n = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n || 'x';
}

/** Compose service and volume names: `[a-zA-Z0-9._-]`. */
export function composeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]+/g, '-');
}
