import type { Command } from 'commander';
import { FatchartError } from '../../errors.js';
import { runCommand } from '../run.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .summary('undo an interrupted (or, with --force, a completed) unpack onto a cluster from its journal')
    .argument('<journal>', 'journal file printed by `fatchart unpack --target k8s`')
    .option('--kubeconfig <file>', 'kubeconfig file (default: as kubectl)')
    .option('--context <name>', 'kubeconfig context (default: the one recorded in the journal)')
    .option('--force', 'also undo an unpack that completed')
    .addHelpText('after', `
Deletes what the unpack created and puts back what it changed, newest first, journaling each
step so that an interrupted rollback resumes where it stopped.

Example:
  fatchart rollback ~/.local/state/fatchart/journals/shop-2025-01-01T10-00-00-000Z.jsonl`)
    .action(async (path: string, o: { kubeconfig?: string; context?: string; force?: boolean }) => {
      await runCommand(program.opts(), async (ctx) => {
        // The Kubernetes client loads only for this command.
        const { Journal, KubeClient, rollbackJournal } = await import('../../platforms/k8s/index.js');
        const journal = Journal.open(path);
        try {
          const begin = journal.begin;
          const client = new KubeClient({ kubeconfig: o.kubeconfig, context: o.context ?? begin.context });
          if (client.server !== begin.server) {
            throw new FatchartError('usage', `journal is for ${begin.server} but the context points at ${client.server}; pass --context`, { subject: path });
          }
          if (journal.committed && !o.force) {
            throw new FatchartError('usage', 'that unpack completed; pass --force to undo it anyway', { subject: path });
          }
          const pending = journal.pending().length;
          if (pending === 0) {
            process.stdout.write(`nothing to roll back in ${path}\n`);
            return;
          }
          const r = await rollbackJournal(client, journal, ctx);
          if (r.failed.length) {
            throw new FatchartError('platform', `${r.failed.length} step(s) could not be undone (${r.failed.join('; ')}); run again to retry`, { subject: path });
          }
          process.stdout.write(`rolled back ${begin.context}/${begin.namespace}: deleted ${r.deleted}, restored ${r.restored}\n`);
        } finally {
          journal.close();
        }
      });
    });
}
