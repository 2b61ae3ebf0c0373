import { PassThrough, Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { platformError } from '../../../errors.js';

/**
 * Commands in a pod over the pods/exec API (the WebSocket channel protocol of
 * @kubernetes/client-node's `Exec`): no kubectl binary, no temporary copy. The client writes
 * stdout into our stream without looking at backpressure and sends stdin as fast as it is read,
 * so both directions are paced here (pausing the socket, watching its send buffer): memory stays
 * flat whatever the volume size.
 */
export interface PodRef {
  namespace: string;
  pod: string;
  container: string;
}

/** What is used of the `ws` WebSocket that client-node returns (Node side of isomorphic-ws). */
interface WebSocket {
  readonly isPaused: boolean;
  readonly bufferedAmount: number;
  pause(): void;
  resume(): void;
  close(): void;
  terminate(): void;
  on(event: 'close', listener: () => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

/** Bytes queued in the socket before stdin reading pauses. */
const sendBufferLimit = 8 << 20;
/** Bytes buffered for the consumer of stdout before the socket is paused. */
const readHighWaterMark = 4 << 20;
/** A send buffer that does not move for this long means the remote side stopped reading. */
const stallTimeoutMs = 60_000;
/** How long the send buffer may stand still before asking the caller why. */
const probeAfterMs = 2_000;

/** Exit code from the status the server sends at the end of an exec (`Success`, or `ExitCode` cause). */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause ? Number(cause.message) : -1;
}

function describe(status: V1Status, stderr: string): string {
  const code = exitCodeOf(status);
  const why = stderr.trim().split('\n').slice(-3).join(' | ') || status.message || 'no message';
  return code >= 0 ? `exited with code ${code}: ${why}` : `failed: ${why}`;
}

/**
 * Runs `command` and returns its stdout as a Readable that ends only after the command exited 0;
 * a non-zero exit or a connection that closes without an exit status destroys the stream with a
 * platform error. `subject` names the volume or pod in errors.
 */
export async function execStream(kc: KubeConfig, ref: PodRef, command: string[], subject: string, signal?: AbortSignal): Promise<Readable> {
  const out = new PassThrough({ highWaterMark: readHighWaterMark });
  let stderr = '';
  let status: V1Status | undefined;
  let ws: WebSocket | undefined;
  let finished = false;
  // A broken connection is a plain Error (the bundle writer retries those from the start); a
  // command that failed is a FatchartError (retrying would fail the same way).
  const fail = (message: string, transient = false) => {
    if (finished) return;
    finished = true;
    out.destroy(transient ? new Error(`${subject}: ${message}`) : platformError(message, subject));
    ws?.close();
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!out.write(chunk) && ws && !ws.isPaused) {
        ws.pause();
        out.once('drain', () => ws?.resume());
      }
      done();
    },
    // The client ends stdout when the status frame arrives; the status callback runs right
    // after in the same tick, so by the time `final` runs the exit code is known.
    final(done) {
      setImmediate(() => {
        if (finished) return done();
        if (!status) fail(`exec ${command[0]} in ${ref.pod}: the stream ended without an exit status`, true);
        else if (exitCodeOf(status) !== 0) fail(`${command[0]} in ${ref.pod} ${describe(status, stderr)}`);
        else {
          finished = true;
          out.end();
        }
        done();
      });
    },
  });
  const err = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
      done();
    },
  });
  try {
    ws = (await new Exec(kc).exec(ref.namespace, ref.pod, ref.container, command, sink, err, null, false, (s) => {
      status = s;
    })) as unknown as WebSocket;
  } catch (e) {
    throw platformError(`cannot exec in pod ${ref.pod}: ${messageOf(e)}`, subject, e);
  }
  ws.on('close', () => setImmediate(() => !status && fail(`exec connection to ${ref.pod} closed mid-stream`, true)));
  ws.on('error', (e) => fail(`exec connection to ${ref.pod} broke: ${e.message}`, true));
  out.on('close', () => {
    // The consumer gave up (or we failed): stop the remote command.
    if (!finished) {
      finished = true;
      ws?.close();
    }
  });
  signal?.addEventListener('abort', () => fail('interrupted'), { once: true });
  return out;
}

/**
 * Runs `command` with `input` on its stdin and resolves when every byte was handed to the
 * socket and the connection closed. Servers before v5 of the channel protocol (Kubernetes < 1.29)
 * can only signal end of stdin by closing the connection, which also drops the exit status; so
 * callers make the command record its own result in the pod and check it with a second exec.
 */
export async function execWithInput(
  kc: KubeConfig,
  ref: PodRef,
  command: string[],
  input: Readable,
  subject: string,
  signal?: AbortSignal,
  onSent?: (bytes: number) => void,
  /**
   * Asked when the send buffer has not moved for a few seconds: returns why the command stopped
   * reading (it ended), or undefined. Before the v5 protocol a command that exits with stdin
   * still open may not get its status frame through, so this is how an early exit is noticed.
   */
  whyStalled?: () => Promise<string | undefined>,
): Promise<void> {
  const stdin = new PassThrough();
  let ws: WebSocket;
  let stderr = '';
  const err = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
      done();
    },
  });
  let status: V1Status | undefined;
  try {
    ws = (await new Exec(kc).exec(ref.namespace, ref.pod, ref.container, command, null, err, stdin, false, (s) => {
      status = s;
    })) as unknown as WebSocket;
  } catch (e) {
    throw platformError(`cannot exec in pod ${ref.pod}: ${messageOf(e)}`, subject, e);
  }
  const closed = new Promise<void>((resolve, reject) => {
    ws.on('close', () => resolve());
    ws.on('error', (e) => reject(platformError(`exec connection to ${ref.pod} broke: ${e.message}`, subject, e)));
  });
  closed.catch(() => {});
  let broken = false;
  ws.on('close', () => (broken = true));
  // The command may end before reading everything (tar failing early); its status frame (or a
  // closed connection, or a send buffer that stops draining) says so instead of a silent hang.
  const ended = () => {
    if (status) throw platformError(`${command[0]} in ${ref.pod} ${describe(status, stderr)} (before reading all its input)`, subject);
    if (broken) throw platformError(`exec connection to ${ref.pod} closed while sending${stderr ? `: ${stderr.trim()}` : ''}`, subject);
  };
  const drain = async (limit: number) => {
    let last = ws.bufferedAmount;
    let since = Date.now();
    let probed = false;
    while (ws.bufferedAmount > limit) {
      ended();
      if (signal?.aborted) throw platformError('interrupted', subject);
      if (ws.bufferedAmount !== last) [last, since, probed] = [ws.bufferedAmount, Date.now(), false];
      else if (whyStalled && !probed && Date.now() - since > probeAfterMs) {
        probed = true;
        const why = await whyStalled();
        if (why) throw platformError(`${why}${stderr ? `: ${stderr.trim()}` : ''}`, subject);
      } else if (Date.now() - since > stallTimeoutMs) throw platformError(`${ref.pod} stopped reading its input for ${stallTimeoutMs / 1000}s${stderr ? `: ${stderr.trim()}` : ''}`, subject);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    for await (const chunk of input) {
      if (signal?.aborted) throw platformError('interrupted', subject);
      ended();
      stdin.write(chunk as Buffer);
      onSent?.((chunk as Buffer).length);
      await drain(sendBufferLimit);
    }
    await drain(0);
    ended();
    stdin.end();
    await closed;
  } catch (e) {
    ws.terminate();
    throw e;
  }
  if (status && exitCodeOf(status) !== 0) throw platformError(`${command[0]} in ${ref.pod} ${describe(status, stderr)}`, subject);
}

/** Runs a short command and returns its stdout as text; throws on a non-zero exit. */
export async function execText(kc: KubeConfig, ref: PodRef, command: string[], subject: string, signal?: AbortSignal): Promise<string> {
  const stream = await execStream(kc, ref, command, subject, signal);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  const any = e as { message?: string; type?: string; error?: Error };
  return any?.error?.message ?? any?.message ?? String(e);
}
