import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { FatchartError } from '../errors.js';
import { SIGNATURE_ENTRY } from '../bundle/layout.js';
import type { BundleReader } from '../bundle/reader.js';
import type { Signer } from '../bundle/writer.js';
import { keyIdOf, loadPrivateKey, loadPublicKey } from './keys.js';

/**
 * What a signature covers: the bundle identity (`sha256:` + digest of the checksum trailer), as
 * its ASCII bytes. The trailer lists the digest of every other entry, the manifest included, so
 * one Ed25519 signature over 71 bytes vouches for every byte the reader will use; the entries
 * themselves are checked against the trailer as they stream. `fatchart.sig` holds the raw
 * 64-byte signature; the manifest (covered by the signature) names the key id.
 */
const SIGNATURE_BYTES = 64;

export const signedMessage = (identity: string): Buffer => Buffer.from(identity, 'ascii');

export function signerFor(privateKey: KeyObject): Signer {
  return { keyId: keyIdOf(privateKey), sign: (identity) => edSign(null, signedMessage(identity), privateKey) };
}

export async function signerFromFile(path: string): Promise<Signer> {
  return signerFor(await loadPrivateKey(path));
}

export interface SignaturePolicy {
  /** Public keys trusted to sign; when any is given, a valid signature by one of them is required. */
  trusted?: readonly KeyObject[];
  /** Refuse unsigned bundles even when no key is given (the keys then come from FATCHART_TRUSTED_KEYS). */
  require?: boolean;
}

export interface SignatureStatus {
  /** verified: checked against a trusted key; claimed: signed, but no key was given to check it. */
  state: 'unsigned' | 'claimed' | 'verified';
  keyId?: string;
}

/** Public key files from --key, else from FATCHART_TRUSTED_KEYS (colon-separated) when a signature is required. */
export async function loadTrustedKeys(paths: readonly string[], require: boolean): Promise<KeyObject[]> {
  const list = paths.length ? paths : require ? (process.env.FATCHART_TRUSTED_KEYS ?? '').split(':').filter(Boolean) : [];
  if (require && list.length === 0) {
    throw new FatchartError('usage', '--require-signature needs the signer\'s public key: --key PUB or FATCHART_TRUSTED_KEYS=PUB[:PUB...]');
  }
  return Promise.all(list.map((p) => loadPublicKey(p)));
}

/**
 * Checks the bundle's signature against the policy. Structural problems (a signature entry
 * without a signer in the manifest, or the reverse) are refused whatever the policy: they mean
 * someone stripped or grafted a signature.
 */
export async function checkSignature(reader: BundleReader, policy: SignaturePolicy): Promise<SignatureStatus> {
  const subject = reader.path;
  const claim = reader.manifest.signature;
  const info = reader.entries.get(SIGNATURE_ENTRY);
  const demanded = policy.require || (policy.trusted?.length ?? 0) > 0;
  if (claim && !info) throw new FatchartError('verification', `the manifest says it is signed by key ${claim.keyId} but ${SIGNATURE_ENTRY} is missing (signature stripped?)`, { subject });
  if (!claim && info) throw new FatchartError('verification', `${SIGNATURE_ENTRY} is present but the manifest names no signer (signature grafted on?)`, { subject });
  if (!claim) {
    if (demanded) throw new FatchartError('verification', 'the bundle is not signed, and a signature is required (--key / --require-signature)', { subject });
    return { state: 'unsigned' };
  }
  if (info!.size !== SIGNATURE_BYTES) {
    throw new FatchartError('verification', `${SIGNATURE_ENTRY} is ${info!.size} bytes, an Ed25519 signature is ${SIGNATURE_BYTES}`, { subject });
  }
  if (!demanded) return { state: 'claimed', keyId: claim.keyId };
  const key = policy.trusted!.find((k) => keyIdOf(k) === claim.keyId);
  if (!key) {
    const ids = policy.trusted!.map(keyIdOf).join(', ');
    throw new FatchartError('verification', `signed by key ${claim.keyId}, which is not a trusted key (${ids})`, { subject });
  }
  const signature = await reader.readEntry(SIGNATURE_ENTRY, SIGNATURE_BYTES);
  if (!edVerify(null, signedMessage(reader.identity), key, signature)) {
    throw new FatchartError('verification', `bad signature: the bundle was modified after key ${claim.keyId} signed it, or the signature is forged`, { subject });
  }
  return { state: 'verified', keyId: claim.keyId };
}
