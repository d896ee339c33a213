import { TimeboxError } from '../domain/errors';
import type { Policy } from '../domain/policy';
import type { SlackPerson } from './ports';

/**
 * Only people of Timebox's own Slack workspace may request, decide or end access: not bots,
 * deactivated users, guests or people from another workspace (Slack Connect), unless
 * `slack.allowGuests` lets guests and other workspaces in. `workspace` is the team the command
 * or click came from (the one Timebox is installed in); `action` words the refusal.
 */
export function checkMember(policy: Policy, person: SlackPerson | undefined, workspace: string | undefined, action: 'request' | 'decide on' | 'end'): SlackPerson {
  if (!person || person.deleted) throw new TimeboxError('requester_unknown', 'Timebox could not look up your Slack profile.');
  if (person.isBot) throw new TimeboxError('not_a_member', `Bots cannot ${action} access.`);
  if (policy.allowGuests) return person;
  const elsewhere = person.stranger || (workspace !== undefined && person.teamId !== undefined && person.teamId !== workspace);
  if (elsewhere) {
    throw new TimeboxError('not_a_member', `Your Slack account belongs to another workspace, so you cannot ${action} access here (slack.allowGuests is off).`);
  }
  if (person.guest) throw new TimeboxError('not_a_member', `Guests cannot ${action} access (slack.allowGuests is off).`);
  return person;
}
