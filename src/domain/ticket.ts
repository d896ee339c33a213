import { TimeboxError } from './errors';
import type { Rule } from './policy';

/** A ticket named in a request's reason (`rules[].ticketPattern`), and its link (`slack.ticketUrl`). */
export interface Ticket {
  id: string;
  url?: string;
}

/** Punctuation a ticket id typed in a sentence may carry: "(INC-123)," still names INC-123. */
const AROUND = /^[("'[{<]+|[)"'\]}>,.;:!?]+$/g;

/**
 * The first word of `reason` that `pattern` matches, as typed or without the punctuation around
 * it. The pattern is matched against one word at a time, so `^…$` anchors a whole word.
 */
export function findTicket(pattern: string, reason: string): string | undefined {
  const regex = new RegExp(pattern);
  for (const word of reason.split(/\s+/)) {
    if (word === '') continue;
    if (regex.test(word)) return word;
    const bare = word.replace(AROUND, '');
    if (bare !== '' && bare !== word && regex.test(bare)) return bare;
  }
  return undefined;
}

/** `https://tracker.example.com/browse/{ticket}` with the id in place (URL-encoded). */
export function ticketLink(template: string | undefined, id: string): string | undefined {
  return template ? template.split('{ticket}').join(encodeURIComponent(id)) : undefined;
}

/**
 * The ticket a request under these rules names. Every rule with a ticketPattern must find a
 * match in the reason, or the request is refused naming the pattern (and the rule); the ticket
 * is the first match. Undefined when no rule asks for one.
 */
export function requireTicket(rules: Array<Pick<Rule, 'name' | 'ticketPattern'>>, reason: string, ticketUrl?: string): Ticket | undefined {
  let ticket: string | undefined;
  const seen = new Set<string>();
  for (const rule of rules) {
    if (!rule.ticketPattern || seen.has(rule.name)) continue;
    seen.add(rule.name);
    const found = findTicket(rule.ticketPattern, reason);
    if (found === undefined) {
      throw new TimeboxError(
        'ticket_missing',
        `The reason must name a ticket: one of its words must match \`${rule.ticketPattern}\` (rule "${rule.name}"), and none does. Nothing was filed.`,
      );
    }
    ticket ??= found;
  }
  if (ticket === undefined) return undefined;
  const url = ticketLink(ticketUrl, ticket);
  return { id: ticket, ...(url ? { url } : {}) };
}
