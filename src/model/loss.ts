/**
 * A loss report entry: something in the source that the target cannot express exactly.
 * Every conversion returns its losses; they are printed and stored in the bundle manifest.
 */
export type LossSeverity = 'dropped' | 'approximated' | 'needs-action';

export interface Loss {
  severity: LossSeverity;
  /** Object (`Kind/name`) or compose service (`service/web`) the loss is about. */
  subject: string;
  /** The source field path (`spec.triggers[0]`, `services.web.cap_add`), or the whole object. */
  field: string;
  message: string;
  /** What the operator can do about it. */
  fix?: string;
}

export const lossSeverities: readonly LossSeverity[] = ['dropped', 'approximated', 'needs-action'];
