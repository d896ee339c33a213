import { groupsNamed, type GroupEntry, type Identity, type Membership } from '../domain/identity';
import type { Person } from '../domain/policy';
import type { WorkflowDeps } from './deps';

type Deps = Pick<WorkflowDeps, 'directory' | 'provisioner' | 'logger'>;

const why = (err: unknown): string => (err instanceof Error ? `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}` : String(err)).slice(0, 200);

/**
 * Who `person` is, as the rules in play need it: their profile plus their membership of each
 * group named in `lists` (and only those, each looked up once). A group that cannot be looked up
 * (no such group, Slack or AWS failing) is recorded as unresolved with the reason, which lets
 * nobody in through it (see personMatches), and logged so an operator sees a wrong name in the
 * config at its first use. `principalId` saves the Identity Center user look-up when it is known.
 */
export async function resolveIdentity(deps: Deps, person: Person, lists: string[][], principalId?: string): Promise<Identity> {
  const groups = groupsNamed(lists);
  if (groups.length === 0) return { ...person };
  const slack = groups.filter((g) => g.kind === 'slack');
  const identityCenter = groups.filter((g): g is Extract<GroupEntry, { kind: 'identity-center' }> => g.kind === 'identity-center');
  const [fromSlack, fromAws] = await Promise.all([
    Promise.all(slack.map(async (g): Promise<[string, Membership]> => [g.entry, await slackMembership(deps, g.entry, person.slackUserId)])),
    identityCenterMemberships(deps, identityCenter, person, principalId),
  ]);
  const memberships = new Map<string, Membership>([...fromSlack, ...fromAws.memberships]);
  for (const group of groups) {
    const m = memberships.get(group.entry);
    if (m && 'unresolved' in m) deps.logger.warn({ group: group.entry, slackUserId: person.slackUserId, reason: m.unresolved }, `could not resolve ${group.label} named in a rule`);
  }
  return { ...person, ...(fromAws.principalId ? { principalId: fromAws.principalId } : {}), groups: memberships };
}

async function slackMembership(deps: Deps, group: string, slackUserId: string): Promise<Membership> {
  try {
    const members = await deps.directory.userGroupMembers(group);
    if (!members) return { unresolved: 'there is no such user group in this Slack workspace' };
    return { member: members.has(slackUserId) };
  } catch (err) {
    return { unresolved: `Slack failed: ${why(err)}` };
  }
}

async function identityCenterMemberships(
  deps: Deps,
  groups: Array<Extract<GroupEntry, { kind: 'identity-center' }>>,
  person: Person,
  knownPrincipalId: string | undefined,
): Promise<{ memberships: Array<[string, Membership]>; principalId?: string }> {
  if (groups.length === 0) return { memberships: [] };
  const all = (m: Membership): { memberships: Array<[string, Membership]> } => ({ memberships: groups.map((g) => [g.entry, m]) });
  // Who the user is and which groups the names stand for are independent look-ups: side by side.
  const user = knownPrincipalId
    ? Promise.resolve<{ principalId?: string; unresolved?: Membership }>({ principalId: knownPrincipalId })
    : findPrincipal(deps, person);
  const groupIds = Promise.all(
    groups.map(async (g): Promise<[string, string | Membership]> => {
      try {
        return [g.entry, (await deps.provisioner.findGroupIdByName(g.displayName)) ?? { unresolved: 'there is no group with that display name in Identity Center' }];
      } catch (err) {
        return [g.entry, { unresolved: `AWS failed: ${why(err)}` }];
      }
    }),
  );
  const [{ principalId, unresolved }, ids] = await Promise.all([user, groupIds]);
  if (unresolved) return all(unresolved);
  // No Identity Center user: in no group, which is an answer, not a failure.
  if (!principalId) return all({ member: false });
  const found = ids.filter((e): e is [string, string] => typeof e[1] === 'string');
  let inGroups: ReadonlySet<string> | undefined;
  let failed: string | undefined;
  if (found.length > 0) {
    try {
      inGroups = await deps.provisioner.memberOfGroups(principalId, found.map(([, id]) => id));
    } catch (err) {
      failed = `AWS failed: ${why(err)}`;
    }
  }
  const memberships = ids.map(([entry, id]): [string, Membership] => {
    if (typeof id !== 'string') return [entry, id];
    return [entry, failed !== undefined || !inGroups ? { unresolved: failed ?? 'not checked' } : { member: inGroups.has(id) }];
  });
  return { memberships, principalId };
}

/** The Identity Center user of `person`'s email, or why it is not known. */
async function findPrincipal(deps: Deps, person: Person): Promise<{ principalId?: string; unresolved?: Membership }> {
  if (!person.email) return { unresolved: { unresolved: 'the Slack profile has no email, so Timebox cannot find the Identity Center user' } };
  try {
    const principalId = await deps.provisioner.findUserIdByEmail(person.email);
    return principalId ? { principalId } : {};
  } catch (err) {
    return { unresolved: { unresolved: `AWS failed: ${why(err)}` } };
  }
}
