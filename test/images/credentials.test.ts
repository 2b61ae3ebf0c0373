import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainCredentials, credentialKey, defaultCredentials, dockerConfigCredentials, secretCredentials } from '../../src/images/credentials.js';
import type { KubeObject } from '../../src/model/object.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry credentials', () => {
  it('normalises Docker Hub spellings and URLs to a bare host', () => {
    expect(credentialKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(credentialKey('registry-1.docker.io')).toBe('docker.io');
    expect(credentialKey('https://quay.io/')).toBe('quay.io');
    expect(credentialKey('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('reads auths from a Docker config file (auth, username/password, identitytoken)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fatchart-dockercfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
          'quay.io': { username: 'q', password: 'qp' },
          'ghcr.io': { identitytoken: 'refresh-me' },
        },
      }),
    );
    const lookup = await dockerConfigCredentials(file);
    expect(await lookup('docker.io')).toEqual({ username: 'hubuser', password: 'hub:pass' });
    expect(await lookup('quay.io')).toEqual({ username: 'q', password: 'qp' });
    expect(await lookup('ghcr.io')).toEqual({ identityToken: 'refresh-me', username: undefined });
    expect(await lookup('elsewhere.io')).toBeUndefined();
    expect(await (await dockerConfigCredentials(join(dir, 'absent.json')))('quay.io')).toBeUndefined();
  });

  it('reads both pull Secret shapes, and chains lookups in order', async () => {
    const secrets: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'pull' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { '10.0.0.5:5000': { auth: b64('robot:s3cret') } } })) },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'legacy' },
        type: 'kubernetes.io/dockercfg',
        stringData: { '.dockercfg': JSON.stringify({ 'https://quay.io': { username: 'old', password: 'style' } }) },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other' }, type: 'Opaque', data: { x: b64('y') } },
    ];
    const fromSecrets = secretCredentials(secrets);
    expect(await fromSecrets('10.0.0.5:5000')).toEqual({ username: 'robot', password: 's3cret' });
    expect(await fromSecrets('quay.io')).toEqual({ username: 'old', password: 'style' });
    const chained = chainCredentials(fromSecrets, async (host) => ({ username: `fallback-${host}`, password: 'x' }));
    expect(await chained('quay.io')).toEqual({ username: 'old', password: 'style' });
    expect(await chained('ghcr.io')).toEqual({ username: 'fallback-ghcr.io', password: 'x' });
    expect(() =>
      secretCredentials([{ ...secrets[0], metadata: { name: 'broken' }, data: { '.dockerconfigjson': b64('{nope') } }]),
    ).toThrow(/Secret\/broken: \.dockerconfigjson is not JSON/);
  });
});

describe('default credentials', () => {
  it('tries the app’s pull Secrets before $DOCKER_CONFIG/config.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fatchart-dockercfg-env-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'a.example': { auth: b64('cfg:a') }, 'b.example': { auth: b64('cfg:b') } } }));
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'pull' },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: { '.dockerconfigjson': JSON.stringify({ auths: { 'a.example': { username: 'secret', password: 'a' } } }) },
    };
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    try {
      const lookup = await defaultCredentials([secret]);
      expect(await lookup('a.example')).toEqual({ username: 'secret', password: 'a' });
      expect(await lookup('b.example')).toEqual({ username: 'cfg', password: 'b' });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });
});
