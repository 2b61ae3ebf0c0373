import type { Command } from 'commander';
import { generateAgeIdentity, generateKeyPair } from '../../security/keys.js';
import { runCommand } from '../run.js';

export function register(program: Command): void {
  const key = program.command('key').summary('make keys: Ed25519 signing keys, age encryption identities');
  key
    .command('generate')
    .summary('write NAME.key (private, 0600) and NAME.pub (public) Ed25519 signing keys')
    .argument('<name>', 'path prefix of the key files')
    .option('--age', 'instead write NAME.agekey, an age identity (as age-keygen does), and print its recipient')
    .addHelpText('after', `
Examples:
  fatchart key generate ops              # ops.key signs (pack --sign), ops.pub checks (verify --key)
  fatchart key generate site-b --age     # site-b.agekey decrypts (unpack --identity); share the printed age1… recipient

Keep .key and .agekey files private; see docs/SECURITY.md for key handling.`)
    .action(async (name: string, o: { age?: boolean }) => {
      await runCommand(program.opts(), async () => {
        if (o.age) {
          const r = await generateAgeIdentity(name);
          process.stdout.write(`wrote ${r.identityPath} (private)\nrecipient ${r.recipient}\n`);
          return;
        }
        const r = await generateKeyPair(name);
        process.stdout.write(`wrote ${r.privatePath} (private) and ${r.publicPath}\nkey id ${r.keyId}\n`);
      });
    });
}
