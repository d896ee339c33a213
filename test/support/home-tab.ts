import { randomBytes } from 'node:crypto';

/**
 * App Home as Slack drives it: the Events API's `app_home_opened` (a signed JSON POST to
 * /slack/events), Slack's url_verification challenge, and a button click on a Home view
 * (`block_actions` from a `view` container: no channel, no message, no response_url).
 */
type Json = Record<string, unknown>;
const TEAM = { id: 'T0TIMEBOX', domain: 'timebox-test' };
const APP_ID = 'A0TIMEBOX';

/** The JSON body of an `app_home_opened` event for `userId` (Events API `event_callback`). */
export function appHomeOpenedBody(userId: string, tab: 'home' | 'messages' = 'home'): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: TEAM.id,
    api_app_id: APP_ID,
    event: { type: 'app_home_opened', user: userId, channel: `D${userId}`, tab, event_ts: `${now}.000100` },
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: now,
    authorizations: [{ enterprise_id: null, team_id: TEAM.id, user_id: 'U0TIMEBOT0', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

/** Slack's first request to an Events API URL. */
export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({ token: 'legacy-verification-token', challenge, type: 'url_verification' });
}

/** Every text of a view's blocks (sections, headers, context, buttons), one string to look into. */
export function viewText(blocks: unknown[] | undefined): string {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') texts.push(value);
        else walk(value);
      }
    }
  };
  walk(blocks ?? []);
  return texts.join('\n');
}

/** The buttons `actionId` on a view, with their values. */
export function buttonsOn(blocks: unknown[] | undefined, actionId: string): string[] {
  return (blocks ?? []).flatMap((b) => {
    const elements = (b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [];
    return elements.filter((e) => e.action_id === actionId).map((e) => e.value ?? '');
  });
}

/**
 * The `payload=` form body of a click on button `actionId` (value `value`) of the Home view
 * `blocks` as `who` sees it. Throws if the view has no such button: a test clicks only what is shown.
 */
export function homeClickBody(who: { id: string; name: string }, actionId: string, value: string, blocks: unknown[], viewId = 'V0HOME0001'): string {
  if (!buttonsOn(blocks, actionId).includes(value)) throw new Error(`the Home view has no ${actionId} button for ${value}`);
  const block = blocks.find((b) => ((b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? []).some((e) => e.action_id === actionId && e.value === value)) as { block_id?: string };
  const payload: Json = {
    type: 'block_actions',
    user: { id: who.id, username: who.name, name: who.name, team_id: TEAM.id },
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    container: { type: 'view', view_id: viewId },
    trigger_id: `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`,
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    view: { id: viewId, team_id: TEAM.id, type: 'home', blocks, private_metadata: '', callback_id: '', state: { values: {} }, hash: '1.x', app_id: APP_ID, bot_id: 'B0TIMEBOX' },
    actions: [{ action_id: actionId, block_id: block.block_id ?? 'b', text: { type: 'plain_text', text: actionId }, value, type: 'button', action_ts: `${Date.now() / 1000}` }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
