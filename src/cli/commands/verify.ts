import type { Command } from 'commander';
import { verify } from '../../actions/verify.js';
import { FatchartError } from '../../errors.js';
import { runCommand } from '../run.js';
import { collect } from '../options.js';
import { readPassphrase } from '../../security/open.js';

export function register(program: Command): void {
  program
    .command('verify')
    .summary('check every checksum of a fat chart (exit 0 only if all hold)')
    .argument('<bundle>', 'fat chart archive')
    .option('--deep', 'also decompress every volume and re-hash every file against its index')
    .option('--json', 'machine-readable report on stdout')
    .option('--key <pub>', 'require a valid signature by this public key (repeatable)', collect, [])
    .option('--require-signature', 'refuse unsigned bundles (keys from --key or FATCHART_TRUSTED_KEYS)')
    .option('--identity <file>', 'age identity file to decrypt an encrypted bundle (repeatable)', collect, [])
    .option('--passphrase', 'decrypt with a passphrase from FATCHART_PASSPHRASE or stdin')
    .addHelpText('after', `
Examples:
  fatchart verify bundles/shop.fatchart
  fatchart verify bundles/shop.fatchart --deep --json
  fatchart verify shop.fatchart.age --identity me.agekey --key signer.pub

Exit codes: 0 intact, 2 a checksum or index does not hold (the entry is named), 4 unsupported
format version, 5 unsafe archive structure.`)
    .action(async (bundle: string, o: { deep?: boolean; json?: boolean; key: string[]; requireSignature?: boolean; identity: string[]; passphrase?: boolean }) => {
      await runCommand({ ...program.opts(), quiet: program.opts().quiet || o.json }, async (ctx) => {
        try {
          const r = await verify(bundle, { deep: o.deep, trust: { keys: o.key, requireSignature: o.requireSignature, identities: o.identity, ...(o.passphrase ? { passphrase: await readPassphrase() } : {}) } }, ctx);
          if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else {
            process.stdout.write(`${bundle}: intact\n  identity ${r.identity}\n  format ${r.formatVersion}\n  ${r.signedBy ? `signed by ${r.signedBy} (verified)` : r.claimedSigner ? `signed by ${r.claimedSigner} (NOT checked: pass --key PUB)` : 'not signed'}${r.encrypted ? '\n  encrypted (age)' : ''}\n`);
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
