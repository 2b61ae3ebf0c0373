import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { FatchartError } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { ensureFreeSpace } from './limits.js';
import { isAlive } from '../util/process.js';

/**
 * Confidentiality with the age format (age-encryption.org/v1), so Debian's `age` decrypts what
 * fatchart encrypts and the reverse. The whole fat chart is the age plaintext: nothing, not even
 * the manifest, is readable without a key. Both directions stream in 64 KiB chunks (age's
 * STREAM construction, as exposed by the age-encryption package for web streams); memory
 * stays flat whatever the archive size.
 */
export const AGE_MAGIC = 'age-encryption.org/v1\n';
const ARMOR_MAGIC = '-----BEGIN AGE ENCRYPTED FILE-----';

export interface EncryptOptions {
  /** `age1…` recipients, or files listing them one a line (`#` comments), like `age -R`. */
  recipients?: readonly string[];
  passphrase?: string;
}

export interface DecryptOptions {
  /** Identity files holding `AGE-SECRET-KEY-1…` lines, as `age-keygen` writes them. */
  identities?: readonly string[];
  passphrase?: string;
}

/** 'age' for a binary age file, 'armored' for `age -a` output (not read: see below), else undefined. */
export async function ageKind(path: string): Promise<'age' | 'armored' | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(ARMOR_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.subarray(0, bytesRead).toString('latin1');
    if (text.startsWith(AGE_MAGIC)) return 'age';
    if (text.startsWith(ARMOR_MAGIC)) return 'armored';
    return undefined;
  } finally {
    await handle.close();
  }
}

async function readKeyLines(path: string, what: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FatchartError('usage', `cannot read ${what}: ${(err as Error).message}`, { subject: path, cause: err });
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

async function expandRecipients(list: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of list) out.push(...(r.startsWith('age1') ? [r] : await readKeyLines(r, 'recipients file')));
  return out;
}

function encrypterFor(opts: EncryptOptions, recipients: string[]): Encrypter {
  const e = new Encrypter();
  if (opts.passphrase !== undefined) {
    if (recipients.length) throw new FatchartError('usage', 'choose --encrypt RECIPIENT or --passphrase, not both (age files have one or the other)');
    e.setPassphrase(opts.passphrase);
    return e;
  }
  if (!recipients.length) throw new FatchartError('usage', 'no age recipient given');
  for (const r of recipients) {
    try {
      e.addRecipient(r);
    } catch (err) {
      throw new FatchartError('usage', `not an age recipient this fatchart supports (age1…): ${(err as Error).message}`, { subject: r.slice(0, 80) });
    }
  }
  return e;
}

/**
 * Encrypts `plainPath` into `outPath` through a temp file beside it, renamed only when complete:
 * an interrupted encryption leaves no file at `outPath`.
 */
export async function encryptFile(plainPath: string, outPath: string, opts: EncryptOptions, ctx: RunContext): Promise<number> {
  const encrypter = encrypterFor(opts, await expandRecipients(opts.recipients ?? []));
  const temp = join(dirname(outPath), `.${basename(outPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const size = (await stat(plainPath)).size;
  const progress = ctx.progress.start('encrypt', size);
  try {
    const source = Readable.toWeb(createReadStream(plainPath, { highWaterMark: 1 << 20 })) as unknown as ReadableStream<Uint8Array>;
    const cipher = await encrypter.encrypt(source);
    const counter = new Transform({ transform: (c: Buffer, _e, done) => (progress.advance(c.length), done(null, c)) });
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    await pipeline(Readable.fromWeb(cipher as unknown as WebReadableStream<Uint8Array>), counter, out, { signal: ctx.signal });
    const handle = await open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(temp, outPath);
    progress.done();
    return (await stat(outPath)).size;
  } catch (err) {
    progress.done('failed');
    await unlink(temp).catch(() => {});
    if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted; no encrypted archive was written', { subject: outPath });
    throw err instanceof FatchartError ? err : new FatchartError('platform', `encryption failed: ${(err as Error).message}`, { subject: outPath, cause: err });
  }
}

/** A decrypted copy in a private temp folder; `release` removes it (also run at process exit). */
export interface DecryptedCopy {
  path: string;
  release(): Promise<void>;
}

const TEMP_PREFIX = 'fatchart-dec-';

/** Where decrypted copies go: FATCHART_TMPDIR, else the OS temp folder. */
export const tempRoot = (): string => process.env.FATCHART_TMPDIR || tmpdir();

/**
 * A private (0700) temp folder, registered for removal at exit. Folders left by a process that
 * was killed (SIGKILL cannot be caught) are swept the next time one is made.
 */
export async function privateTempDir(kind: string): Promise<{ dir: string; release(): Promise<void> }> {
  const root = tempRoot();
  await sweepStale(root);
  const dir = await mkdtemp(join(root, `${TEMP_PREFIX}${process.pid}-${kind}-`)).catch((err: Error) => {
    throw new FatchartError('platform', `cannot make a private temp folder (set FATCHART_TMPDIR): ${err.message}`, { subject: root, cause: err });
  });
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', onExit);
  return {
    dir,
    release: async () => {
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function sweepStale(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    await rm(join(root, name), { recursive: true, force: true }).catch(() => {});
  }
}

async function decrypterFor(path: string, opts: DecryptOptions): Promise<Decrypter> {
  const d = new Decrypter();
  let any = false;
  if (opts.passphrase !== undefined) {
    d.addPassphrase(opts.passphrase);
    any = true;
  }
  for (const file of opts.identities ?? []) {
    for (const line of await readKeyLines(file, 'identity file')) {
      try {
        d.addIdentity(line);
      } catch (err) {
        throw new FatchartError('usage', `not an age identity (AGE-SECRET-KEY-1…): ${(err as Error).message}`, { subject: file });
      }
      any = true;
    }
  }
  if (!any) throw new FatchartError('usage', 'the archive is age-encrypted: give --identity FILE or --passphrase', { subject: path });
  return d;
}

/**
 * Decrypts an age file into a private temp folder so the fat-chart reader can seek in it. The
 * plaintext size is known from the ciphertext size before anything is written, and the temp
 * space is checked for it up front. Tampering anywhere is an authentication failure.
 */
export async function decryptToTemp(path: string, opts: DecryptOptions, ctx: RunContext): Promise<DecryptedCopy> {
  const kind = await ageKind(path);
  if (kind === 'armored') throw new FatchartError('unsupported', 'ASCII-armored age files are not read; decrypt with "age -d" or re-encrypt without -a', { subject: path });
  const decrypter = await decrypterFor(path, opts);
  const cipherSize = (await stat(path)).size;
  const temp = await privateTempDir('unpack');
  const plainPath = join(temp.dir, `${basename(path).replace(/\.age$/, '') || 'bundle'}.plain`);
  try {
    const source = Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 })) as unknown as ReadableStream<Uint8Array>;
    let plain;
    try {
      plain = await decrypter.decrypt(source);
    } catch (err) {
      const msg = (err as Error).message;
      const noMatch = /no identity matched/.test(msg);
      throw new FatchartError(noMatch ? 'usage' : 'verification', noMatch ? 'none of the given keys (or the passphrase) opens this archive' : `age header is invalid: ${msg}`, { subject: path, cause: err });
    }
    let expected: number;
    try {
      expected = plain.size(cipherSize);
    } catch (err) {
      throw new FatchartError('verification', `age payload has an impossible size: ${(err as Error).message} (truncated?)`, { subject: path });
    }
    const cap = Number(process.env.FATCHART_TEMP_LIMIT) || Infinity;
    if (expected > cap) throw new FatchartError('platform', `decrypting needs ${expected} bytes of temp space; FATCHART_TEMP_LIMIT allows ${cap}`, { subject: path });
    await ensureFreeSpace(temp.dir, expected, `decrypting ${basename(path)} (set FATCHART_TMPDIR to use another folder)`);
    const progress = ctx.progress.start('decrypt', expected);
    const counter = new Transform({ transform: (c: Buffer, _e, done) => (progress.advance(c.length), done(null, c)) });
    try {
      await pipeline(Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>), counter, createWriteStream(plainPath, { flags: 'wx', mode: 0o600 }), { signal: ctx.signal });
      progress.done();
    } catch (err) {
      progress.done('failed');
      if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted while decrypting', { subject: path });
      throw new FatchartError('verification', `age payload fails authentication (modified or truncated): ${(err as Error).message}`, { subject: path, cause: err });
    }
    return { path: plainPath, release: temp.release };
  } catch (err) {
    await temp.release();
    throw err;
  }
}
