import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { FatchartError } from '../errors.js';
import type { PlatformName } from '../model/app.js';
import { writeBundle, type Signer, type WriteResult } from '../bundle/writer.js';
import { getPlatform } from '../platforms/index.js';
import type { CaptureRequest } from '../platforms/driver.js';
import type { RunContext } from '../util/context.js';
import { toolVersion } from '../util/version.js';
import type { EncryptOptions } from '../security/age.js';
import { withOptionalEncryption } from '../security/open.js';
import { packSlots, type PackSlots, type SlotRequest } from './slots.js';

export interface PackOptions extends CaptureRequest, SlotRequest {
  source: PlatformName;
  /** Output file; default `<app>.fatchart` in the current folder. */
  out?: string;
  created: Date;
  compressionLevel?: number;
  retries?: number;
  signer?: Signer;
  /** age recipients or a passphrase: the archive is written as an age file (docs/SECURITY.md). */
  encrypt?: EncryptOptions;
}

/** Captures the app from its source and writes one fat chart. The source is always released. */
export async function pack(options: PackOptions, ctx: RunContext): Promise<WriteResult> {
  const driver = await getPlatform(options.source);
  if (!driver.source) throw new FatchartError('usage', `platform "${options.source}" cannot be a pack source`);
  const capture = await driver.source.capture(options, ctx);
  let slots: PackSlots | undefined;
  try {
    // Sources that cannot checkpoint leave `checkpoints` unset: say so rather than pack without them.
    if (options.checkpoint && !capture.checkpoints) throw new FatchartError('usage', `--checkpoint: the ${options.source} source cannot take checkpoints; store existing exports with --checkpoint-archive FILE`);
    const out = resolve(options.out ?? `${basename(capture.model.app.name)}.fatchart${options.encrypt ? '.age' : ''}`);
    // Before --exclude-secrets: the app's imagePullSecrets are the registries' credentials.
    slots = await packSlots(options, capture, dirname(out), ctx);
    const { images, checkpoints } = slots;
    if (options.excludeSecrets) {
      const dropped = capture.model.objects.filter((o) => o.kind === 'Secret');
      capture.model.objects = capture.model.objects.filter((o) => o.kind !== 'Secret');
      capture.model.originals = capture.model.originals.filter((o) => o.kind !== 'Secret');
      for (const s of dropped) {
        capture.model.losses.push({ severity: 'dropped', subject: `Secret/${s.metadata.name}`, field: '*', message: 'left out by --exclude-secrets', fix: 'create the Secret on the target before unpacking' });
      }
    } else if (!options.encrypt && capture.model.objects.some((o) => o.kind === 'Secret')) {
      ctx.log.warn('the bundle holds Secrets in clear text; encrypt it for transport or use --exclude-secrets');
    }
    const t0 = performance.now();
    const result = await withOptionalEncryption(out, options.encrypt, ctx, (path) =>
      writeBundle(
        {
          out: path,
          model: capture.model,
          volumes: capture.volumes,
          created: options.created,
          toolVersion,
          compressionLevel: options.compressionLevel,
          retries: options.retries,
          signer: options.signer,
          images,
          checkpoints,
        },
        ctx,
      ),
    );
    if (!options.encrypt) return result;
    // The encryption pass runs after writeBundle returned: its time belongs in the total too.
    const totalMs = performance.now() - t0;
    return { ...result, path: out, bytes: (await stat(out)).size, timings: { ...result.timings, encryptMs: totalMs - result.timings.totalMs!, totalMs } };
  } finally {
    await slots?.release();
    await capture.release();
  }
}
