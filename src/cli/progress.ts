import type { ProgressSink, ProgressTask } from '../util/context.js';
import { bytes, duration } from '../util/format.js';

/**
 * Progress on stderr: a live line with bytes/s and ETA on a terminal, plain lines otherwise
 * (one when a task starts, one every 10 s, one when it ends) so logs stay readable.
 */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressSink {
  const tty = stream.isTTY === true;
  return {
    start(label: string, total?: number): ProgressTask {
      if (quiet) return { advance() {}, done() {} };
      const t0 = performance.now();
      let done = 0;
      let lastPrint = 0;
      const render = () => {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = elapsed > 0 ? done / elapsed : 0;
        const pct = total ? ` ${Math.min(100, (100 * done) / total).toFixed(0)}%` : '';
        const eta = total && rate > 0 ? ` ETA ${duration(((total - done) / rate) * 1000)}` : '';
        return `${label}: ${bytes(done)}${total ? ` of ${bytes(total)}` : ''}${pct} ${bytes(rate)}/s${eta}`;
      };
      if (!tty) stream.write(`${label}: started\n`);
      return {
        advance(n: number) {
          done += n;
          const now = performance.now();
          if (tty && now - lastPrint > 100) {
            stream.write(`\r\x1b[K${render()}`);
            lastPrint = now;
          } else if (!tty && now - lastPrint > 10_000 && now - t0 > 10_000) {
            stream.write(`${render()}\n`);
            lastPrint = now;
          }
        },
        done(summary?: string) {
          const line = `${label}: ${summary ?? 'done'} (${bytes(done)} in ${duration(performance.now() - t0)})`;
          stream.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
        },
      };
    },
  };
}
