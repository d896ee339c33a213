import type { AccessRequest } from '../domain/access-request';
import { APPROVERS_NAMED, asksByDm, ruleOf, waitingFor, type ApproverName, type Deciders } from '../domain/approvers';
import { groupEntry } from '../domain/identity';
import type { WorkflowDeps } from './deps';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** A look-up that fails names the entry as written: naming the approvers is news, and never fails it. */
async function orAsWritten(deps: WorkflowDeps, entry: string, lookUp: () => Promise<string | undefined>): Promise<string | undefined> {
  return lookUp().catch((err: unknown) => {
    deps.logger.warn({ entry, err: String(err) }, 'could not resolve an approver; shown as written');
    return undefined;
  });
}

/**
 * How one approver entry reads in Slack. An email is looked up (users.lookupByEmail), a Slack
 * user group `@handle` too (usergroups.list), both cached by the directory; one Slack does not
 * know, an Identity Center group, or a look-up that fails, is shown as written.
 */
async function nameOf(deps: WorkflowDeps, entry: string): Promise<ApproverName> {
  if (entry === '*') return { kind: 'anyone' };
  if (SLACK_USER.test(entry)) return { kind: 'user', slackUserId: entry };
  const group = groupEntry(entry);
  if (group?.kind === 'slack') {
    const id = await orAsWritten(deps, entry, () => deps.directory.userGroupId(entry));
    return id ? { kind: 'user-group', id } : { kind: 'as-written', entry };
  }
  if (!group && entry.includes('@')) {
    const slackUserId = await orAsWritten(deps, entry, () => deps.directory.findByEmail(entry));
    if (slackUserId) return { kind: 'user', slackUserId };
  }
  return { kind: 'as-written', entry };
}

/** Look-ups asked of Slack at once while naming approvers (users.lookupByEmail is Tier 3: 50+ a minute). */
const LOOKUPS_AT_ONCE = 8;

/**
 * Who can decide each grant still waiting, as Slack can mention them. Only what a message shows is
 * looked up: the first APPROVERS_NAMED entries of a grant (the rest are counted, "N more"), unless
 * its rule asks its approvers by DM, which needs every one of them. A rule listing 700 approvers
 * by email costs 20 look-ups, a few at a time, not 700 one after another.
 */
export async function nameDeciders(deps: WorkflowDeps, request: AccessRequest): Promise<Deciders> {
  const entries = waitingFor(deps.policy, request);
  const wanted = new Set<string>();
  for (const [grantId, list] of entries) {
    const grant = request.grants.find((g) => g.id === grantId);
    const everyone = grant !== undefined && asksByDm(ruleOf(deps.policy, grant));
    for (const entry of everyone ? list : [...new Set(list)].slice(0, APPROVERS_NAMED)) wanted.add(entry);
  }
  const names = new Map<string, ApproverName>();
  const queue = [...wanted];
  const worker = async (): Promise<void> => {
    for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) names.set(entry, await nameOf(deps, entry));
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_AT_ONCE, queue.length) }, worker));
  return new Map([...entries].map(([grantId, list]) => [grantId, list.map((e) => names.get(e) ?? { kind: 'as-written' as const, entry: e })]));
}

/**
 * The Slack users who get the request by DM: the approvers of each waiting grant whose rule says
 * `notify: dm` or `both`, as far as they can be named as people (a Slack user group's members;
 * "*" and Identity Center groups name nobody to DM), never the requester unless the rule lets
 * them decide their own request.
 */
export async function dmRecipients(deps: WorkflowDeps, request: AccessRequest, deciders: Deciders): Promise<string[]> {
  const out = new Set<string>();
  for (const grant of request.grants.filter((g) => g.status === 'PENDING')) {
    const rule = ruleOf(deps.policy, grant);
    if (!asksByDm(rule)) continue;
    for (const name of deciders.get(grant.id) ?? []) {
      const people = name.kind === 'user' ? [name.slackUserId] : name.kind === 'user-group' ? [...((await orMembers(deps, name.id)) ?? [])] : [];
      for (const person of people) if (person !== request.requester.slackUserId || rule?.allowSelfApproval) out.add(person);
    }
  }
  return [...out];
}

async function orMembers(deps: WorkflowDeps, groupId: string): Promise<ReadonlySet<string> | undefined> {
  return deps.directory.userGroupMembers(groupId).catch((err: unknown) => {
    deps.logger.warn({ groupId, err: String(err) }, 'could not list a user group to DM its members');
    return undefined;
  });
}
