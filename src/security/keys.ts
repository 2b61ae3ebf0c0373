import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { FatchartError } from '../errors.js';

/**
 * Ed25519 signing keys as standard PEM files, so `openssl pkey -in KEY -pubout` and any other
 * PKCS#8/SPKI tool can read them:
 *
 *   NAME.key  PKCS#8 "PRIVATE KEY", mode 0600: signs bundles (`pack --sign NAME.key`)
 *   NAME.pub  SPKI "PUBLIC KEY": checks them (`verify --key NAME.pub`, `unpack --key NAME.pub`)
 *
 * A key id is the first 16 hex digits of sha256 over the raw 32-byte public key: short enough
 * to read aloud, recorded in the manifest so a verifier knows which key to expect.
 */
export interface KeyPairFiles {
  privatePath: string;
  publicPath: string;
  keyId: string;
}

const RAW_KEY_BYTES = 32;

/** The raw public key is the last 32 bytes of its SPKI DER encoding (RFC 8410). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - RAW_KEY_BYTES);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

/** Writes NAME.key and NAME.pub; refuses to overwrite either (a lost signing key is not recoverable). */
export async function generateKeyPair(base: string): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = `${base}.key`;
  const publicPath = `${base}.pub`;
  const keyId = keyIdOf(publicKey);
  const written: string[] = [];
  try {
    // 'wx' both refuses to clobber and creates the private key 0600 from its first byte.
    await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
    written.push(privatePath);
    const tmp = `${publicPath}.tmp-${process.pid}`;
    await writeFile(tmp, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx', mode: 0o644 });
    await rename(tmp, publicPath);
  } catch (err) {
    for (const p of written) await unlink(p).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new FatchartError('usage', code === 'EEXIST' ? 'key file exists already; choose another name' : `cannot write key: ${(err as Error).message}`, {
      subject: code === 'EEXIST' ? (written.length ? publicPath : privatePath) : base,
      cause: err,
    });
  }
  return { privatePath, publicPath, keyId };
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FatchartError('usage', `cannot read key: ${(err as Error).message}`, { subject: path, cause: err });
  }
}

function requireEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FatchartError('usage', `not an Ed25519 key (it is ${key.asymmetricKeyType}); make one with "fatchart key generate"`, { subject: path });
  }
  return key;
}

export async function loadPrivateKey(path: string): Promise<KeyObject> {
  const text = await readKeyFile(path);
  try {
    return requireEd25519(createPrivateKey(text), path);
  } catch (err) {
    if (err instanceof FatchartError) throw err;
    throw new FatchartError('usage', 'not a PEM private key', { subject: path, cause: err });
  }
}

/** A public key file; a private key file is accepted too (its public half is used). */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const text = await readKeyFile(path);
  try {
    return requireEd25519(createPublicKey(text), path);
  } catch (err) {
    if (err instanceof FatchartError) throw err;
    throw new FatchartError('usage', 'not a PEM public key', { subject: path, cause: err });
  }
}

/** Writes NAME.agekey in age-keygen's format (mode 0600) and returns the recipient to share. */
export async function generateAgeIdentity(base: string): Promise<{ identityPath: string; recipient: string }> {
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const identityPath = `${base}.agekey`;
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  await writeFile(identityPath, text, { flag: 'wx', mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
    throw new FatchartError('usage', err.code === 'EEXIST' ? 'key file exists already; choose another name' : `cannot write key: ${err.message}`, { subject: identityPath, cause: err });
  });
  return { identityPath, recipient };
}
