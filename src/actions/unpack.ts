import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FatchartError } from '../errors.js';
import type { PlatformName } from '../model/app.js';
import { getPlatform } from '../platforms/index.js';
import type { RestoreReport, RestoreRequest } from '../platforms/driver.js';
import type { RunContext } from '../util/context.js';
import { ensureFreeSpace } from '../security/limits.js';
import { openBundle, type TrustOptions } from '../security/open.js';
import type { SignatureStatus } from '../security/signature.js';
import { objectsForTarget, type TargetPreparation } from './target-objects.js';
import { deliverImages, type ImageDelivery } from './slots.js';

export interface UnpackOptions extends RestoreRequest, ImageDelivery {
  target: PlatformName;
  /** Decryption keys and the signature policy (docs/SECURITY.md). */
  trust?: TrustOptions;
  /** Conversion and rewrites for the target, as `fatchart convert` does them. */
  prepare?: TargetPreparation;
}

/**
 * Opens and checks the bundle (decrypting it and checking its signature first when asked),
 * then hands its blueprints and data to the target driver.
 */
export async function unpack(
  path: string,
  options: UnpackOptions,
  ctx: RunContext,
): Promise<RestoreReport & { identity: string; signature: SignatureStatus }> {
  const opened = await openBundle(path, options.trust ?? {}, ctx);
  try {
    const reader = opened.reader;
    const driver = await getPlatform(options.target);
    if (!driver.target) throw new FatchartError('usage', `platform "${options.target}" cannot be an unpack target`);
    if (options.out && !options.skipData) {
      // The volumes' own stats are what the decompression cap allows; the plan total could understate them.
      const m = reader.manifest;
      const declared = Math.max(m.plan.dataBytes, m.volumes.reduce((n, v) => n + v.stats.dataBytes, 0));
      await ensureFreeSpace(await existingAncestor(resolve(options.out)), declared, `restoring ${declared} bytes of volume data`);
    }
    const converted = options.objects ?? objectsForTarget(await reader.objects(), options.target, options.prepare ?? {}, ctx);
    // Images go first: the blueprints the driver writes or applies must already point at them.
    const objects = options.planOnly || options.dryRun ? converted : await deliverImages(reader, converted, options.target, options, ctx);
    const report = await driver.target.restore(reader, { ...options, objects }, ctx);
    // Targets that restore checkpoints report on them; the others start every container cold.
    if (reader.manifest.checkpoints.length && !report.checkpoints && !options.planOnly && !options.dryRun) {
      ctx.log.warn(`the ${options.target} target does not restore checkpoints: ${reader.manifest.checkpoints.map((c) => c.container).join(', ')} start cold`);
    }
    return { ...report, identity: reader.identity, signature: opened.signature };
  } catch (err) {
    throw opened.explain(err);
  } finally {
    await opened.release();
  }
}

async function existingAncestor(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    if (await stat(p).then((s) => s.isDirectory(), () => false)) return p;
    if (dirname(p) === p) return p;
  }
}
