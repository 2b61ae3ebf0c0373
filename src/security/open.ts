import { basename, join } from 'node:path';
import { BundleReader } from '../bundle/reader.js';
import { FatchartError } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { ageKind, decryptToTemp, encryptFile, privateTempDir, type DecryptOptions, type EncryptOptions } from './age.js';
import { checkSignature, loadTrustedKeys, type SignatureStatus } from './signature.js';

/** How a bundle must be opened: keys to decrypt it, and what signature to demand. */
export interface TrustOptions extends DecryptOptions {
  /** Trusted public key files (`--key`); any given makes a valid signature by one of them mandatory. */
  keys?: readonly string[];
  requireSignature?: boolean;
}

export interface OpenedBundle {
  reader: BundleReader;
  signature: SignatureStatus;
  /** The archive was age-encrypted and was read through a private decrypted copy. */
  encrypted: boolean;
  /** Removes the decrypted copy, if any. Call on every exit path. */
  release(): Promise<void>;
  /** An error about the decrypted copy, reworded to name the file the user gave. */
  explain(err: unknown): unknown;
}

/**
 * The one way the actions open a bundle: decrypts it first when it is an age file, opens it
 * (structure, manifest, trailer), then checks its signature against the policy — all before a
 * caller can use a single entry.
 */
export async function openBundle(path: string, options: TrustOptions, ctx: RunContext): Promise<OpenedBundle> {
  const trusted = await loadTrustedKeys(options.keys ?? [], !!options.requireSignature);
  const encrypted = (await ageKind(path)) !== undefined;
  const copy = encrypted ? await decryptToTemp(path, options, ctx) : undefined;
  const release = async () => copy?.release();
  const explain = (err: unknown) => (copy && err instanceof FatchartError ? renamed(err, copy.path, path) : err);
  try {
    const reader = await BundleReader.open(copy?.path ?? path).catch((err: unknown) => {
      throw explain(err);
    });
    const signature = await checkSignature(reader, { trusted, require: options.requireSignature });
    if (signature.keyId) ctx.log.info(`${basename(path)}: ${signature.state === 'verified' ? 'signature verified' : 'signed (not checked: no --key)'} by key ${signature.keyId}`);
    return { reader, signature, encrypted, release, explain };
  } catch (err) {
    await release();
    throw explain(err);
  }
}

/** Errors about the decrypted copy name the file the user gave, not a temp path. */
function renamed(err: FatchartError, from: string, to: string): FatchartError {
  if (!err.message.includes(from)) return err;
  return new FatchartError(err.code, err.message.split(from).join(`${to} (decrypted)`), { cause: err });
}

/**
 * Runs `write` against a plaintext path and, when encryption is asked for, encrypts the result
 * into `out`. The fat chart is written with positioned writes (its manifest comes first but is
 * filled last), so it cannot be encrypted on the fly: the plaintext goes to a private temp
 * folder (FATCHART_TMPDIR) and is encrypted from there in one streaming pass, then removed.
 */
export async function withOptionalEncryption<T>(
  out: string,
  encrypt: EncryptOptions | undefined,
  ctx: RunContext,
  write: (path: string) => Promise<T>,
): Promise<T> {
  if (!encrypt) return write(out);
  const temp = await privateTempDir('pack');
  try {
    const plain = join(temp.dir, basename(out).replace(/\.age$/, ''));
    const result = await write(plain);
    await encryptFile(plain, out, encrypt, ctx);
    return result;
  } finally {
    await temp.release();
  }
}

/** The passphrase for --passphrase: FATCHART_PASSPHRASE, else the first line of a piped stdin (never a flag value: argv is public). */
export async function readPassphrase(): Promise<string> {
  const fromEnv = process.env.FATCHART_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) throw new FatchartError('usage', '--passphrase: set FATCHART_PASSPHRASE or pipe the passphrase on stdin');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a) || Buffer.concat(chunks).length > 4096) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split('\n')[0]!.replace(/\r$/, '');
  if (!line) throw new FatchartError('usage', '--passphrase: empty passphrase on stdin');
  return line;
}
