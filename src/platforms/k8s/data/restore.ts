import type { IndexRecord } from '../../../bundle/volume-index.js';
import { FatchartError, usageError } from '../../../errors.js';
import type { DataRestoreInput, DataRestoreResult } from '../restore.js';
import { execText, execWithInput } from './exec.js';
import { defaultMoverImage, Mover, moverName } from './mover.js';
import { parseQuantity } from '../quantity.js';
import { neededBytes } from './claim-size.js';
import { claimImages } from './images.js';
import { compareWithIndex, parseVerifyOutput, restoreCommand, untarResult, verifyCommand } from './verify.js';

export interface DataRestoreOptions {
  moverImage?: string;
}

/**
 * The "data" step of an unpack onto a cluster (between claims bound and workloads applied): per
 * claim that has a volume in the bundle, a read-write mover receives the volume's tar on stdin
 * over exec, then re-reads every file inside the pod and compares with the bundle index. Any
 * difference fails the step, and with it the transaction (which deletes the claims it created).
 * Each mover is journaled before it is created and marked undone once deleted, so a crashed
 * unpack's `fatchart rollback` removes a leftover mover too.
 */
export async function restoreVolumes(input: DataRestoreInput, options: DataRestoreOptions = {}): Promise<DataRestoreResult> {
  const { client, namespace, bundle, request, journal, ctx } = input;
  const volumes = bundle.manifest.volumes;
  const only = request.onlyVolume;
  if (only && !volumes.some((v) => v.name === only)) throw usageError(`the bundle has no volume ${only} (it has ${volumes.map((v) => v.name).join(', ') || 'none'})`, '--only-volume');
  const claimNames = new Set(input.claims.map((c) => c.metadata.name));
  const todo = volumes.filter((v) => (!only || v.name === only) && claimNames.has(v.name));
  for (const v of volumes) if (!claimNames.has(v.name) && (!only || v.name === only)) ctx.log.warn(`volume ${v.name}: no claim of that name on the target; its data is not restored`);

  // The blueprints as this target gets them (images possibly rewritten): the app's own images are the mover's fallback.
  const objects = request.objects ?? (await bundle.objects());
  const result: DataRestoreResult = { volumes: 0, files: 0, bytes: 0, digestsVerified: todo.length > 0 };
  for (const v of todo) {
    if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted before restoring data', { subject: `volume ${v.name}` });
    const subject = `volume ${v.name}`;
    const image = options.moverImage ?? defaultMoverImage;
    // A claim too small for the data would fail half-way through tar: say so before writing.
    const live = await client.get(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${v.name}`, { allow404: true });
    const capacity = live?.status?.capacity?.storage;
    if (capacity && parseQuantity(capacity) < v.stats.dataBytes) {
      throw new FatchartError('platform', `the bound volume holds ${capacity}, the data needs ${v.stats.dataBytes} bytes; request at least ${neededBytes(v.stats.dataBytes) / 2 ** 20}Mi`, { subject: `PersistentVolumeClaim/${v.name}` });
    }
    const name = moverName(v.name);
    const record = journal.append({ type: 'create', target: { apiVersion: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, namespace, name } });
    let mover: Mover;
    try {
      mover = await Mover.start(client, { namespace, claim: v.name, image, fallbackImages: claimImages(objects, v.name), readOnly: false }, ctx, name);
    } catch (err) {
      journal.append({ type: 'undone', step: record.seq });
      throw err;
    }
    const progress = ctx.progress.start(`restore volume ${v.name}`, v.stats.dataBytes);
    try {
      const ref = mover.ref;
      const whyStalled = async () => {
        const rc = (await execText(client.config, ref, ['sh', '-c', `cat ${untarResult} 2>/dev/null || true`], subject).catch(() => '')).trim();
        return rc ? `tar -x exited with ${rc} before reading all its input` : undefined;
      };
      await execWithInput(client.config, ref, restoreCommand, bundle.volumeTar(v.name), subject, ctx.signal, (n) => progress.advance(n), whyStalled);
      const index: IndexRecord[] = [];
      for await (const rec of bundle.volumeIndex(v.name)) index.push(rec);
      const live = parseVerifyOutput(await execText(client.config, mover.ref, verifyCommand, subject, ctx.signal));
      const problems = compareWithIndex(index, live);
      if (problems.length) {
        throw new FatchartError('verification', `${problems.length} difference(s) after restore: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}`, { subject });
      }
      progress.done(`${v.stats.files} files verified`);
      ctx.log.info(`restored volume ${v.name}: ${v.stats.files} files, ${v.stats.dataBytes} bytes, every digest re-read in the pod and equal (${v.consistency})`);
      result.volumes++;
      result.files += v.stats.files;
      result.bytes += v.stats.dataBytes;
    } catch (err) {
      progress.done('failed');
      throw err;
    } finally {
      await mover.delete();
      journal.append({ type: 'undone', step: record.seq });
    }
  }
  return result;
}
