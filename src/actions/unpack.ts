import { FatchartError } from '../errors.js';
import type { PlatformName } from '../model/app.js';
import { BundleReader } from '../bundle/reader.js';
import { getPlatform } from '../platforms/index.js';
import type { RestoreReport, RestoreRequest } from '../platforms/driver.js';
import type { RunContext } from '../util/context.js';

export interface UnpackOptions extends RestoreRequest {
  target: PlatformName;
}

/** Opens and checks the bundle, then hands its blueprints and data to the target driver. */
export async function unpack(path: string, options: UnpackOptions, ctx: RunContext): Promise<RestoreReport & { identity: string }> {
  const reader = await BundleReader.open(path);
  const driver = await getPlatform(options.target);
  if (!driver.target) throw new FatchartError('usage', `platform "${options.target}" cannot be an unpack target`);
  const objects = options.objects ?? (await reader.objects());
  const report = await driver.target.restore(reader, { ...options, objects }, ctx);
  return { ...report, identity: reader.identity };
}
