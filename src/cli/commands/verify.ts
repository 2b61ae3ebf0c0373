import type { Command } from 'commander';
import { verify } from '../../actions/verify.js';
import { FatchartError } from '../../errors.js';
import { runCommand } from '../run.js';

export function register(program: Command): void {
  program
    .command('verify')
    .summary('check every checksum of a fat chart (exit 0 only if all hold)')
    .argument('<bundle>', 'fat chart archive')
    .option('--deep', 'also decompress every volume and re-hash every file against its index')
    .option('--json', 'machine-readable report on stdout')
    .addHelpText('after', `
Examples:
  fatchart verify bundles/shop.fatchart
  fatchart verify bundles/shop.fatchart --deep --json

Exit codes: 0 intact, 2 a checksum or index does not hold (the entry is named), 4 unsupported
format version, 5 unsafe archive structure.`)
    .action(async (bundle: string, o: { deep?: boolean; json?: boolean }) => {
      await runCommand({ ...program.opts(), quiet: program.opts().quiet || o.json }, async (ctx) => {
        try {
          const r = await verify(bundle, { deep: o.deep }, ctx);
          if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else {
            process.stdout.write(`${bundle}: intact\n  identity ${r.identity}\n  format ${r.formatVersion}\n  ${r.signedBy ? `signed by ${r.signedBy}` : 'not signed'}\n`);
            for (const c of r.checked) process.stdout.write(`  checked: ${c}\n`);
          }
        } catch (err) {
          if (o.json && err instanceof FatchartError) {
            process.stdout.write(`${JSON.stringify({ path: bundle, intact: false, problem: { code: err.code, message: err.message } }, null, 2)}\n`);
          }
          throw err;
        }
      });
    });
}
