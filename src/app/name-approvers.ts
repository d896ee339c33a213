import type { AccessRequest } from '../domain/access-request';
import { asksByDm, ruleOf, waitingFor, type ApproverName, type Deciders } from '../domain/approvers';
import type { WorkflowDeps } from './deps';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const SLACK_USER_GROUP = /^S[A-Z0-9]{2,}$/;

/**
 * How one approver entry reads in Slack. An email is looked up (users.lookupByEmail, cached by
 * the directory); one Slack does not know, or a look-up that fails, is shown as written: naming
 * the approvers is news, and never fails it.
 */
async function nameOf(deps: WorkflowDeps, entry: string): Promise<ApproverName> {
  if (entry === '*') return { kind: 'anyone' };
  if (SLACK_USER.test(entry)) return { kind: 'user', slackUserId: entry };
  if (SLACK_USER_GROUP.test(entry)) return { kind: 'user-group', id: entry };
  if (entry.includes('@') && !entry.startsWith('@')) {
    const slackUserId = await deps.directory.findByEmail(entry).catch((err: unknown) => {
      deps.logger.warn({ entry, err: String(err) }, 'could not look an approver up by email; shown as written');
      return undefined;
    });
    if (slackUserId) return { kind: 'user', slackUserId };
  }
  return { kind: 'as-written', entry };
}

/** Who can decide each grant still waiting, as Slack can mention them. */
export async function nameDeciders(deps: WorkflowDeps, request: AccessRequest): Promise<Deciders> {
  const entries = waitingFor(deps.policy, request);
  const names = new Map<string, ApproverName>();
  for (const entry of new Set([...entries.values()].flat())) names.set(entry, await nameOf(deps, entry));
  return new Map([...entries].map(([grantId, list]) => [grantId, list.map((e) => names.get(e) ?? { kind: 'as-written' as const, entry: e })]));
}

/**
 * The Slack users who get the request by DM: the approvers of each waiting grant whose rule says
 * `notify: dm` or `both`, as far as they can be named as people ("*" names nobody to DM), never
 * the requester unless the rule lets them decide their own request.
 */
export function dmRecipients(deps: WorkflowDeps, request: AccessRequest, deciders: Deciders): string[] {
  const out = new Set<string>();
  for (const grant of request.grants.filter((g) => g.status === 'PENDING')) {
    const rule = ruleOf(deps.policy, grant);
    if (!asksByDm(rule)) continue;
    for (const name of deciders.get(grant.id) ?? []) {
      if (name.kind !== 'user') continue;
      if (name.slackUserId === request.requester.slackUserId && !rule?.allowSelfApproval) continue;
      out.add(name.slackUserId);
    }
  }
  return [...out];
}
