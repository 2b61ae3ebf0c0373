import { FatchartError } from '../errors.js';

/**
 * The creation time recorded in a bundle: --created, else SOURCE_DATE_EPOCH (the reproducible
 * builds convention), else now. Fixing it makes two packs of the same input byte-identical.
 */
export function creationTime(created: string | undefined, env: NodeJS.ProcessEnv = process.env): Date {
  if (created !== undefined) {
    const d = /^\d+$/.test(created) ? new Date(Number(created) * 1000) : new Date(created);
    if (Number.isNaN(d.getTime())) throw new FatchartError('usage', `--created: not a date or epoch seconds: ${created}`);
    return d;
  }
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new FatchartError('usage', `SOURCE_DATE_EPOCH must be whole seconds, not "${epoch}"`);
    return new Date(Number(epoch) * 1000);
  }
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}
