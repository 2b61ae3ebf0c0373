#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { toolVersion } from '../util/version.js';
import { commandModules } from './commands/index.js';

const program = new Command('fatchart')
  .version(toolVersion)
  .description('Migrate a containerised app as one verifiable artifact: pack it into a fat chart, unpack it anywhere.')
  .option('-q, --quiet', 'no progress or info on stderr')
  .option('-v, --verbose', 'debug output and stack traces')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', `
Exit codes: 0 ok, 1 usage, 2 verification failed, 3 source/target error, 4 unsupported format,
5 unsafe archive refused, 6 pre-flight failed, 7 lossy conversion under --strict, 70 internal
error, 130 interrupted (rolled back). See README.md.`);

for (const load of commandModules) (await load()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are not errors; everything else commander rejects is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : ExitCode.usage;
  } else throw err;
}
