/** Slack's three control characters in mrkdwn; escaping them defuses <!channel>, <@U…> and links. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters (Slack rejects longer fields), marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A Slack date token: each reader sees it in their own time zone; the fallback is UTC. */
export function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const fallback = new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `<!date^${seconds}^{date_short_pretty} {time}|${fallback}>`;
}

/** A Slack time-of-day token ("14:05" in each reader's own time zone); the fallback is UTC. */
export function slackTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{time}|${new Date(seconds * 1000).toISOString().slice(11, 16)} UTC>`;
}

export const mention = (slackUserId: string) => `<@${slackUserId}>`;

/** A Slack user group mention: Slack notifies its members. */
export const groupMention = (userGroupId: string) => `<!subteam^${userGroupId}>`;
