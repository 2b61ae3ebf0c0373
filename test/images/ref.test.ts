import { describe, expect, it } from 'vitest';
import { FatchartError } from '../../src/errors.js';
import { normalizeImageRef, parseImageRef, parseRegistryTarget, targetRepository } from '../../src/images/ref.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['postgres', 'docker.io/library/postgres:latest'],
    ['postgres:16', 'docker.io/library/postgres:16'],
    ['bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['quay.io/org/app:v1', 'quay.io/org/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/team/app:1.0', '127.0.0.1:5000/team/app:1.0'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    ['[::1]:5000/app:x', '[::1]:5000/app:x'],
    ['registry.example.com:443/a/b/c', 'registry.example.com:443/a/b/c:latest'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeImageRef(input)).toBe(expected);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseImageRef(`127.0.0.1:5000/team/app:1.0@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'team/app',
      tag: '1.0',
      digest: D,
    });
  });

  it.each(['UPPER/case', 'app:', `app@sha256:${'a'.repeat(10)}`, 'app@md5:abc', '', 'a//b'])('refuses %j with a usage error', (bad) => {
    expect(() => parseImageRef(bad)).toThrow(FatchartError);
    expect(() => parseImageRef(bad)).toThrow(/not a valid image reference/);
  });

  it('places pushed images under the target registry and its prefix', () => {
    const ref = parseImageRef('postgres:16');
    expect(targetRepository(parseRegistryTarget('10.0.0.5:5000/mirror'), ref)).toBe('mirror/library/postgres');
    expect(targetRepository(parseRegistryTarget('https://registry.local/'), ref)).toBe('library/postgres');
    expect(parseRegistryTarget('registry.local:5000').host).toBe('registry.local:5000');
    expect(() => parseRegistryTarget('not a registry')).toThrow(/HOST\[:PORT\]/);
  });
});
