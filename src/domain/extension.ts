import { TimeboxError } from './errors';
import type { AccessRequest, Grant } from './access-request';
import type { Rule } from './policy';

/**
 * Extensions: "I need 30 more minutes". An extension is a request of its own (`extends` names the
 * original), filed and decided like any request under the same rules, one grant per grant of the
 * original it covers (with the same grant id). Approved, it is not granted: it moves the end of
 * the original's window by its duration, in one conditional write to the original that records
 * which grants it moved (`extensions[].applied`), so applying it twice moves nothing twice.
 */

/** Rules that say nothing allow this many extensions of a window. */
export const DEFAULT_MAX_EXTENSIONS = 2;
/** durations.extendWarning when the config says nothing: the requester is warned 10 minutes before a window ends. */
export const DEFAULT_EXTEND_WARNING_MS = 600_000;

/** On an extension: the request it extends, and that window's end when the extension was filed. */
export interface ExtensionOf {
  id: string;
  endsAt: number;
}

/** On the original: one extension filed for it, and the ids of the grants it has moved so far. */
export interface ExtensionRecord {
  id: string;
  applied: string[];
}

export const maxExtensionsOf = (rule: Pick<Rule, 'maxExtensions'>): number => rule.maxExtensions ?? DEFAULT_MAX_EXTENSIONS;

/** The grants of `request` an extension can still move: active, not ended early, window not over. */
export function extendableGrants(request: AccessRequest, now: number): Grant[] {
  return request.grants.filter((g) => g.status === 'ACTIVE' && !g.endedEarlyBy && (g.endsAt ?? 0) > now);
}

/** Why `request` cannot be extended now (nothing of it is active), as the refusal to show. */
export function notExtendable(request: AccessRequest): TimeboxError {
  const statuses = new Set(request.grants.map((g) => g.status));
  if (statuses.has('REVOKING') || statuses.has('ACTIVE')) {
    return new TimeboxError('already_ending', `Request ${request.id}'s access is ending or already being removed, so it cannot be extended.`);
  }
  if (statuses.has('PENDING') || statuses.has('APPROVED') || statuses.has('GRANTING')) {
    return new TimeboxError('not_active_yet', `Request ${request.id} is not active yet; extend it once it is.`);
  }
  return new TimeboxError('already_over', `Request ${request.id} is over; there is no access to extend. Ask for new access instead.`);
}

/** Extensions that still count against the cap: applied ones, and those that may still be. */
export function countsAgainstCap(record: ExtensionRecord, extension: AccessRequest | undefined): boolean {
  if (record.applied.length > 0) return true;
  return extension !== undefined && extension.grants.some((g) => g.status === 'PENDING' || g.status === 'APPROVED' || g.status === 'APPLIED');
}

/** Throws unless one more extension is within every matched rule's `maxExtensions`. */
export function checkExtensionCap(requestId: string, rules: Rule[], counted: number): void {
  const strictest = rules.reduce<Rule | undefined>((min, r) => (min === undefined || maxExtensionsOf(r) < maxExtensionsOf(min) ? r : min), undefined);
  if (!strictest) return;
  const max = maxExtensionsOf(strictest);
  if (counted < max) return;
  throw new TimeboxError(
    'too_many_extensions',
    max === 0
      ? `Rule "${strictest.name}" allows no extensions (rules[].maxExtensions), so request ${requestId} cannot be extended. Ask for new access instead.`
      : `Request ${requestId} has already been extended ${counted} time${counted === 1 ? '' : 's'} (or has an extension waiting); rule "${strictest.name}" allows at most ${max} (rules[].maxExtensions). Ask for new access instead.`,
  );
}

/** The grant of the original an extension's grant moves (the same id and target), if it is still there. */
export function originalGrantOf(original: AccessRequest, grant: Grant): Grant | undefined {
  const found = original.grants.find((g) => g.id === grant.id);
  return found && JSON.stringify(found.target) === JSON.stringify(grant.target) ? found : undefined;
}

/** Why an extension's approved grant could not move its window, for the grant's failure. */
export function whyNotMoved(original: Grant | undefined): string {
  if (!original) return 'the window it was to extend is not there';
  if (original.endedEarlyBy) return 'the window was ended early before the extension was approved';
  if (original.status === 'REVOKING' || original.status === 'ENDED') return 'the window had already ended before the extension was approved';
  return `the window is ${original.status.toLowerCase()}, so there is no window to extend`;
}

/**
 * The original with the extension's approved grants applied: each window still ACTIVE (not ended
 * early) has its end moved by `durationMs`, once. A window whose end has just passed but that is
 * not being removed yet is still moved: the extension was approved before that end (it expires
 * then), and the write is conditional, so it either lands before the revoke is claimed or fails.
 */
export function applyTo(original: AccessRequest, extension: AccessRequest, grantIds: string[]): { next: AccessRequest; moved: Array<{ grantId: string; from: number; to: number }> } | undefined {
  const record = original.extensions?.find((e) => e.id === extension.id) ?? { id: extension.id, applied: [] };
  const todo = grantIds.filter((id) => !record.applied.includes(id));
  const moved: Array<{ grantId: string; from: number; to: number }> = [];
  const grants = original.grants.map((g) => {
    if (!todo.includes(g.id) || g.status !== 'ACTIVE' || g.endedEarlyBy || g.endsAt === undefined) return g;
    const from = g.endsAt;
    moved.push({ grantId: g.id, from, to: from + extension.durationMs });
    return { ...g, endsAt: from + extension.durationMs };
  });
  if (moved.length === 0) return undefined;
  const applied = { id: record.id, applied: [...record.applied, ...moved.map((m) => m.grantId)] };
  const listed = original.extensions?.some((e) => e.id === extension.id);
  const extensions = listed ? (original.extensions ?? []).map((e) => (e.id === extension.id ? applied : e)) : [...(original.extensions ?? []), applied];
  return { next: { ...original, grants, extensions }, moved };
}

/** Whether the extension has moved this grant of the original. */
export const wasApplied = (original: AccessRequest, extensionId: string, grantId: string): boolean =>
  original.extensions?.find((e) => e.id === extensionId)?.applied.includes(grantId) ?? false;

// ---- The warning before a window ends.

/** The latest window end the requester has been warned about (the 'extend-warning' message's key), if any. */
export function warnedUntil(request: Pick<AccessRequest, 'messages'>): number {
  const shown = request.messages.find((m) => m.kind === 'extend-warning')?.shown;
  return shown === undefined ? 0 : Number(shown) || 0;
}

/** Active windows the warning is about: not ended early, ending after the last warning, and longer than the warning itself. */
function windowsToWarn(request: AccessRequest, lead: number): Grant[] {
  const warned = warnedUntil(request);
  return request.grants.filter((g) => g.status === 'ACTIVE' && !g.endedEarlyBy && g.endsAt !== undefined && g.endsAt > warned && g.endsAt - lead > (g.activeAt ?? 0));
}

/** When the requester is next due a warning that a window is about to end, if ever. */
export function extendWarningAt(request: AccessRequest): number | undefined {
  const lead = request.extendWarningMs;
  if (!lead) return undefined;
  const ends = windowsToWarn(request, lead).map((g) => (g.endsAt ?? 0) - lead);
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

/** The windows a warning sent now covers (those ending within the warning's lead, not yet over), or none. */
export function extendWarningDue(request: AccessRequest, now: number): Grant[] {
  const lead = request.extendWarningMs;
  if (!lead) return [];
  return windowsToWarn(request, lead).filter((g) => (g.endsAt ?? 0) - lead <= now && (g.endsAt ?? 0) > now);
}
