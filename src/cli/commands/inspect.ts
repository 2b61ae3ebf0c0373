import type { Command } from 'commander';
import { inspect, type InspectReport } from '../../actions/inspect.js';
import { bytes, table } from '../../util/format.js';
import { runCommand } from '../run.js';
import { describeFacts } from '../../checkpoint/facts.js';
import { collect } from '../options.js';
import { readPassphrase } from '../../security/open.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .summary('show what a fat chart holds (manifest summary; --json for the whole manifest)')
    .argument('<bundle>', 'fat chart archive')
    .option('--json', 'print the report with the full manifest as JSON')
    .option('--identity <file>', 'age identity file to decrypt an encrypted bundle (repeatable)', collect, [])
    .option('--passphrase', 'decrypt with a passphrase from FATCHART_PASSPHRASE or stdin')
    .addHelpText('after', `
Examples:
  fatchart inspect bundles/shop.fatchart
  fatchart inspect bundles/shop.fatchart --json | jq .plan
  fatchart inspect shop.fatchart.age --identity me.agekey`)
    .action(async (bundle: string, o: { json?: boolean; identity: string[]; passphrase?: boolean }) => {
      await runCommand(program.opts(), async (ctx) => {
        const r = await inspect(bundle, { identities: o.identity, ...(o.passphrase ? { passphrase: await readPassphrase() } : {}) }, ctx);
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : render(r));
      });
    });
}

function render(r: InspectReport): string {
  const m = r.manifest;
  const src = [m.source.platform, m.source.version, m.source.context, m.source.namespace && `namespace ${m.source.namespace}`].filter(Boolean).join(', ');
  const out = [
    `${r.path}`,
    `  app        ${m.app.name}${m.app.selector ? ` (${m.app.selector})` : ''}`,
    `  source     ${src}`,
    `  created    ${m.created} by fatchart ${m.tool.version}`,
    `  format     ${m.formatVersion}`,
    `  identity   ${r.identity}`,
    `  signed     ${m.signature ? `ed25519 key ${m.signature.keyId} (run verify --key to check it)` : 'no'}`,
    `  encrypted  ${r.encrypted ? 'yes (age)' : 'no'}`,
    `  size       ${bytes(r.fileBytes)} in ${r.entries} entries`,
    `  plan       ${m.plan.objects} objects, ${m.plan.volumes} volumes, ${m.plan.files} files, ${bytes(m.plan.dataBytes)} of data; requests ${m.plan.requests.cpuMillis}m CPU, ${bytes(m.plan.requests.memoryBytes)} memory; storage requested ${bytes(m.plan.storageRequestedBytes)}`,
    '',
    table(['KIND', 'NAME', 'NAMESPACE', 'ENTRY'], m.objects.map((o) => [o.kind, o.name, o.namespace ?? '', o.entry])),
  ];
  if (m.volumes.length) {
    out.push('', table(
      ['VOLUME', 'FILES', 'DIRS', 'LINKS', 'DATA', 'STORED', 'CONSISTENCY', 'CLAIM'],
      m.volumes.map((v) => [v.name, String(v.stats.files), String(v.stats.dirs), String(v.stats.symlinks + v.stats.hardlinks), bytes(v.stats.dataBytes), bytes(v.size), v.consistency, [v.claim?.requested, v.claim?.storageClassName, v.claim?.accessModes?.join(',')].filter(Boolean).join(' ')]),
    ));
  }
  if (m.checkpoints.length) {
    out.push('', 'checkpoints:');
    for (const c of m.checkpoints) {
      out.push(`  ${c.container} (${bytes(c.size)})`);
      for (const [label, value] of describeFacts(c.facts as never)) out.push(`    ${label}: ${value}`);
    }
  }
  if (m.images.refs.length) out.push('', table(['IMAGE', 'DIGEST', 'PLATFORM', 'SIZE'], m.images.refs.map((i) => [i.ref, i.digest, i.platform ?? '', bytes(i.size)])));
  if (m.losses.length) out.push('', table(['LOSS', 'SUBJECT', 'FIELD', 'MESSAGE'], m.losses.map((l) => [l.severity, l.subject, l.field, l.message])));
  return `${out.join('\n')}\n`;
}
