import { APPROVERS_NAMED, type ApproverName, type Deciders } from '../../../domain/approvers';
import { escapeMrkdwn, groupMention, mention, truncate } from './mrkdwn';

function nameText(name: ApproverName): string {
  switch (name.kind) {
    case 'anyone':
      return 'anyone';
    case 'user':
      return mention(name.slackUserId);
    case 'user-group':
      return groupMention(name.id);
    case 'as-written':
      return escapeMrkdwn(truncate(name.entry, 100));
  }
}

/** "<@U1>, <@U2> or <!subteam^S1>": who can decide, each once; "anyone" when the rule says "*". */
export function approverNames(names: readonly ApproverName[]): string {
  if (names.some((n) => n.kind === 'anyone')) return 'anyone';
  const texts = [...new Set(names.map(nameText))];
  if (texts.length === 0) return 'nobody (the rule lists no approvers)';
  // Slack allows 3,000 characters in a section; a long list is cut with a count.
  const shown = texts.slice(0, APPROVERS_NAMED);
  const rest = texts.length - shown.length;
  const last = rest > 0 ? `${rest} more` : shown.pop();
  return shown.length === 0 ? String(last) : `${shown.join(', ')} or ${last}`;
}

/** " from <@U1> or <@U2>" for one waiting grant, or nothing when who decides is not known here. */
export function fromApprovers(deciders: Deciders | undefined, grantId: string): string {
  const names = deciders?.get(grantId);
  return names ? ` from ${approverNames(names)}` : '';
}
