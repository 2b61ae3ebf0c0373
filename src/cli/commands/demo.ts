import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { exampleApps, roundTrip } from '../../actions/roundtrip.js';
import { bytes, duration, table } from '../../util/format.js';
import { creationTime } from '../../util/time.js';
import { runCommand } from '../run.js';

export function register(program: Command): void {
  program
    .command('demo')
    .summary('pack, deep-verify and unpack every example app, proving the round trip exact')
    .argument('[examples]', 'folder of example apps (one manifests folder each)', 'examples')
    .option('--bundles <dir>', 'where to write the bundles', 'bundles')
    .option('--created <time>', 'creation time to record (default SOURCE_DATE_EPOCH or now)')
    .addHelpText('after', `
Examples:
  npm run demo                 # generates the example data, then runs this on examples/
  fatchart demo examples --bundles /tmp/bundles

Exit code 0 only if every app restores byte-identical (content, modes, mtimes, links) and
packing the restored folder gives the same bundle identity.`)
    .action(async (examples: string, o: { bundles: string; created?: string }) => {
      await runCommand({ ...program.opts(), quiet: true }, async (ctx) => {
        await mkdir(o.bundles, { recursive: true });
        const created = creationTime(o.created);
        const rows: string[][] = [];
        let ok = true;
        for (const dir of await exampleApps(examples)) {
          const r = await roundTrip(dir, join(o.bundles, `${basename(dir)}.fatchart`), created, ctx);
          ok &&= r.digestsEqual && r.identityStable;
          if (r.difference) process.stderr.write(`${r.app}: ${r.difference}\n`);
          rows.push([
            r.app, String(r.objects), String(r.volumes), String(r.files), bytes(r.dataBytes), bytes(r.bundleBytes),
            r.digestsEqual ? 'yes' : 'NO', r.identityStable ? 'yes' : 'NO',
            duration(r.timings.packMs), duration(r.timings.verifyMs), duration(r.timings.unpackMs), r.bundle,
          ]);
        }
        process.stdout.write(`${table(['APP', 'OBJECTS', 'VOLUMES', 'FILES', 'DATA', 'BUNDLE', 'DIGESTS EQUAL', 'SAME IDENTITY', 'PACK', 'VERIFY --DEEP', 'UNPACK', 'FILE'], rows)}\n`);
        return ok ? 0 : 2;
      });
    });
}
