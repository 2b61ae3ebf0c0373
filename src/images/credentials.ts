import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { platformError, usageError } from '../errors.js';
import type { KubeObject } from '../model/object.js';
import { DOCKER_HUB } from './ref.js';

/**
 * Where registry credentials come from, in the order they are tried: the app's own
 * imagePullSecrets (`kubernetes.io/dockerconfigjson` / `dockercfg` Secrets), then the user's Docker
 * config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) including its credential
 * helpers. Keys are normalised to a bare host so `https://index.docker.io/v1/` finds `docker.io`.
 */
export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker config `identitytoken`), exchanged at the token endpoint. */
  identityToken?: string;
}

export type CredentialLookup = (registry: string) => Promise<Credential | undefined>;

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `https://index.docker.io/v1/` → `docker.io`; `quay.io/` → `quay.io`. */
export function credentialKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0];
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DOCKER_HUB : host;
}

function entryCredential(entry: AuthEntry, subject: string): Credential | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken, username: entry.username };
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw usageError('credential "auth" is not base64 of user:password', subject);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function authsTable(auths: Record<string, AuthEntry> | undefined, subject: string): Map<string, Credential> {
  const table = new Map<string, Credential>();
  for (const [key, entry] of Object.entries(auths ?? {})) {
    const cred = entry && typeof entry === 'object' ? entryCredential(entry, `${subject} ${key}`) : undefined;
    if (cred && !table.has(credentialKey(key))) table.set(credentialKey(key), cred);
  }
  return table;
}

/** Runs `docker-credential-NAME get` the way the Docker CLI does (host on stdin, JSON out). */
function helperCredential(helper: string, registry: string): Promise<Credential | undefined> {
  const server = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 30_000 }, (err, stdout) => {
      if (err) {
        // Helpers exit non-zero with "credentials not found" for hosts they do not know.
        if (/not found/i.test(String(stdout) + String(err.message))) resolve(undefined);
        else reject(platformError(`credential helper failed: ${err.message.split('\n')[0]}`, `docker-credential-${helper}`));
        return;
      }
      const out = JSON.parse(stdout) as { Username?: string; Secret?: string };
      resolve(out.Username === '<token>' ? { identityToken: out.Secret } : { username: out.Username, password: out.Secret });
    });
    child.stdin?.end(server);
  });
}

export async function dockerConfigCredentials(path = defaultDockerConfigPath()): Promise<CredentialLookup> {
  let config: DockerConfig = {};
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`cannot read Docker config: ${(err as Error).message}`, path);
  }
  const table = authsTable(config.auths, path);
  const helpers = new Map(Object.entries(config.credHelpers ?? {}).map(([k, v]) => [credentialKey(k), v]));
  return async (registry) => {
    const helper = helpers.get(registry) ?? (table.has(registry) ? undefined : config.credsStore);
    return table.get(registry) ?? (helper ? helperCredential(helper, registry) : undefined);
  };
}

export function defaultDockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/** Credentials held by the app's pull Secrets, whichever of the two Kubernetes shapes they use. */
export function secretCredentials(objects: KubeObject[]): CredentialLookup {
  const table = new Map<string, Credential>();
  for (const o of objects) {
    if (o.kind !== 'Secret') continue;
    const type = o.type as string | undefined;
    const key = type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : type === 'kubernetes.io/dockercfg' ? '.dockercfg' : undefined;
    if (!key) continue;
    const data = o.data as Record<string, string> | undefined;
    const stringData = o.stringData as Record<string, string> | undefined;
    const text = stringData?.[key] ?? (data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined);
    if (!text) continue;
    const subject = `Secret/${o.metadata.name}`;
    let parsed: DockerConfig & Record<string, AuthEntry>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw usageError(`${key} is not JSON`, subject);
    }
    const auths = key === '.dockerconfigjson' ? parsed.auths : (parsed as Record<string, AuthEntry>);
    for (const [host, cred] of authsTable(auths, subject)) if (!table.has(host)) table.set(host, cred);
  }
  return async (registry) => table.get(registry);
}

/** Tries each lookup in turn; the first that knows the registry wins. */
export function chainCredentials(...lookups: CredentialLookup[]): CredentialLookup {
  return async (registry) => {
    for (const lookup of lookups) {
      const found = await lookup(registry);
      if (found) return found;
    }
    return undefined;
  };
}

/** A fixed user/password for one registry (`--registry-user`, tests). */
export function staticCredentials(registry: string, credential: Credential): CredentialLookup {
  return async (host) => (host === registry ? credential : undefined);
}

/** What pack and unpack use unless told otherwise: the app's pull Secrets, then the Docker config. */
export async function defaultCredentials(objects: KubeObject[] = []): Promise<CredentialLookup> {
  return chainCredentials(secretCredentials(objects), await dockerConfigCredentials());
}
