/**
 * Every failure a user can meet is a FatchartError carrying one exit code from this table, so
 * scripts can tell "the archive is corrupt" from "the cluster said no" without parsing text.
 * The table is documented in the README; add a code here and there together.
 */
export const ExitCode = {
  ok: 0,
  /** Bad flags or arguments. */
  usage: 1,
  /** A checksum, signature or index did not hold: the archive is corrupt or tampered with. */
  verification: 2,
  /** The source or target could not be read or written (file, engine, cluster). */
  platform: 3,
  /** The archive is of a format version or shape this reader does not support. */
  unsupported: 4,
  /** The archive tried something unsafe (path escape, device node, bomb) and was refused. */
  unsafe: 5,
  /** A pre-flight check found the target unable to take the app; nothing was changed. */
  preflight: 6,
  /** A conversion lost information and --strict was given. */
  lossy: 7,
  /** A bug in fatchart itself: please report it with the --verbose output. */
  internal: 70,
  /** Interrupted by a signal; whatever was started was rolled back. */
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export interface ErrorContext {
  /** The file, archive entry, object (Kind/name) or container the error is about. */
  subject?: string;
  cause?: unknown;
}

export class FatchartError extends Error {
  readonly code: ExitCodeName;
  readonly subject?: string;

  constructor(code: ExitCodeName, message: string, context: ErrorContext = {}) {
    super(context.subject ? `${context.subject}: ${message}` : message, { cause: context.cause });
    this.name = 'FatchartError';
    this.code = code;
    this.subject = context.subject;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export const usageError = (message: string, subject?: string) => new FatchartError('usage', message, { subject });
export const verificationError = (message: string, subject?: string) =>
  new FatchartError('verification', message, { subject });
export const platformError = (message: string, subject?: string, cause?: unknown) =>
  new FatchartError('platform', message, { subject, cause });
export const unsupportedError = (message: string, subject?: string) =>
  new FatchartError('unsupported', message, { subject });
export const unsafeError = (message: string, subject?: string) => new FatchartError('unsafe', message, { subject });
