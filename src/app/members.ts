import { TimeboxError } from '../domain/errors';
import type { Policy } from '../domain/policy';
import type { SlackPerson, UserDirectory } from './ports';

/** Why someone may not act here, in the words the audit log uses. */
type NotAMember = 'no Slack profile' | 'deactivated' | 'bot' | 'another workspace' | 'guest';

type Action = 'request' | 'decide on' | 'end' | 'review';

/**
 * Only people of Timebox's own Slack workspace may request, decide or end access: not bots,
 * deactivated users, guests or people from another workspace (Slack Connect), unless
 * `slack.allowGuests` lets guests and other workspaces in. `workspace` is the team the command
 * or click came from (the one Timebox is installed in). Undefined for a member.
 */
function whyNotAMember(policy: Policy, person: SlackPerson | undefined, workspace: string | undefined): NotAMember | undefined {
  if (!person) return 'no Slack profile';
  if (person.deleted) return 'deactivated';
  if (person.isBot) return 'bot';
  if (policy.allowGuests) return undefined;
  if (person.stranger || (workspace !== undefined && person.teamId !== undefined && person.teamId !== workspace)) return 'another workspace';
  if (person.guest) return 'guest';
  return undefined;
}

function refusal(why: NotAMember, action: Action): TimeboxError {
  switch (why) {
    case 'no Slack profile':
    case 'deactivated':
      return new TimeboxError('requester_unknown', 'Timebox could not look up your Slack profile.');
    case 'bot':
      return new TimeboxError('not_a_member', `Bots cannot ${action} access.`);
    case 'another workspace':
      return new TimeboxError('not_a_member', `Your Slack account belongs to another workspace, so you cannot ${action} access here (slack.allowGuests is off).`);
    case 'guest':
      return new TimeboxError('not_a_member', `Guests cannot ${action} access (slack.allowGuests is off).`);
  }
}

/**
 * Looks up who typed or clicked (one users.info, cached) and checks they are a member. A refusal
 * is first handed to `refused` (to audit it: its code and why), then thrown; a failed look-up
 * (Slack down) is thrown as it is, since it refuses nobody.
 */
export async function lookUpMember(
  deps: { policy: Policy; directory: UserDirectory },
  slackUserId: string,
  workspace: string | undefined,
  action: Action,
  refused?: (why: string) => Promise<void>,
): Promise<SlackPerson> {
  const person = await deps.directory.lookup(slackUserId);
  const why = whyNotAMember(deps.policy, person, workspace);
  if (why === undefined && person) return person;
  const err = refusal(why ?? 'no Slack profile', action);
  await refused?.(`${err.code} (${why ?? 'no Slack profile'})`);
  throw err;
}
