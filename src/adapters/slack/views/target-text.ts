import type { Grant } from '../../../domain/access-request';
import type { GrantTarget } from '../../../domain/grant-target';
import { escapeMrkdwn, truncate } from './mrkdwn';

/**
 * How a grant's target reads in Slack, in every message, reply, button and fallback text: one
 * phrase ("ReadOnly on staging", "membership of oncall") in the styles Slack needs. The domain's
 * describeTarget is the plain wording of the audit log, logs and domain errors, never mrkdwn.
 */

type Part = 'permissionSet' | 'account' | 'group';

/** The one phrase, each name styled by `name`; the account id added when `accountId` styles it. */
function phrase(target: GrantTarget, name: (text: string, part: Part) => string, accountId?: (id: string) => string): string {
  if (target.kind === 'group') return `membership of ${name(target.groupName, 'group')}`;
  const id = accountId ? ` (${accountId(target.accountId)})` : '';
  return `${name(target.permissionSetName, 'permissionSet')} on ${name(target.accountName, 'account')}${id}`;
}

const code = (id: string) => `\`${id}\``;
const bolded = (text: string) => `*${escapeMrkdwn(text)}*`;

/** "ReadOnly on staging (`111111111111`)" or "membership of oncall", escaped for mrkdwn; names in bold with `bold`. */
export function targetText(target: GrantTarget, bold = false): string {
  return phrase(target, bold ? bolded : escapeMrkdwn, code);
}

/** "*ReadOnly* on *staging*" or "membership of *oncall*", without ids. */
export function targetName(target: GrantTarget): string {
  return phrase(target, bolded);
}

/** Plain text (a confirm dialog, a notification's fallback): no mrkdwn, names cut to fit. */
export function plainTarget(target: GrantTarget): string {
  return phrase(target, (text, part) => truncate(text, part === 'group' ? 60 : 40));
}

/** The fields of a one-grant message: the account (with its id) and the permission set, or the group. */
export function targetFields(target: GrantTarget): string[] {
  return target.kind === 'account'
    ? [`*Account*\n${escapeMrkdwn(target.accountName)} (${code(target.accountId)})`, `*Permission set*\n${escapeMrkdwn(target.permissionSetName)}`]
    : [`*Group*\n${escapeMrkdwn(target.groupName)}`];
}

/** Several grants in one phrase: the one target itself, or "3 grants" (`noun` says which grants). */
export function grantsSubject(grants: readonly Grant[], text: (target: GrantTarget) => string, noun = 'grants'): string {
  const only = grants.length === 1 ? grants[0] : undefined;
  return only ? text(only.target) : `${grants.length} ${noun}`;
}

/** What the request is for, in one phrase: the grant itself, or "3 grants". */
export function requestSubject(request: { grants: readonly Grant[] }, bold = false): string {
  return grantsSubject(request.grants, (t) => targetText(t, bold));
}
