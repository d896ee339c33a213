import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { COMMAND } from '../../src/adapters/slack/listeners/aws-access-command';

interface Manifest {
  features: { app_home: { home_tab_enabled: boolean }; slash_commands: Array<{ command: string; url?: string; usage_hint?: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions?: { request_url?: string; bot_events?: string[] }; interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string }; socket_mode_enabled: boolean };
}

const load = (path: string) => parse(readFileSync(join(__dirname, '../..', path), 'utf8')) as Manifest;
const SCOPES = ['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email', 'usergroups:read'];

describe('Slack app manifests', () => {
  test('HTTP variant: the command, clicks and menu options all reach /slack/events, with the scopes Timebox calls need', () => {
    const manifest = load('manifest.yml');
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([COMMAND]);
    const urls = [manifest.features.slash_commands[0]!.url, manifest.settings.interactivity.request_url, manifest.settings.interactivity.message_menu_options_url];
    for (const url of urls) expect(url).toMatch(/^https:\/\/.+\/slack\/events$/);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...SCOPES].sort());
  });

  test.each(['manifest.yml', 'docs/manifest-socket-mode.yml'])('daily-use: App Home: %s enables the Home tab, subscribes the bot event app_home_opened, and its usage hint names every subcommand', (path) => {
    const manifest = load(path);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions?.bot_events).toEqual(['app_home_opened']);
    if (path === 'manifest.yml') expect(manifest.settings.event_subscriptions?.request_url).toMatch(/^https:\/\/.+\/slack\/events$/);
    else expect(manifest.settings.event_subscriptions?.request_url).toBeUndefined();
    for (const sub of ['group', 'list', 'status', 'cancel', 'end', 'extend', 'breakglass', 'whocan', 'why', 'available', 'help']) expect(manifest.features.slash_commands[0]!.usage_hint).toContain(sub);
  });

  test('Socket Mode variant: no request URLs, same command and scopes', () => {
    const manifest = load('docs/manifest-socket-mode.yml');
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.slash_commands[0]).toEqual(expect.objectContaining({ command: COMMAND }));
    expect(manifest.features.slash_commands[0]!.url).toBeUndefined();
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...SCOPES].sort());
  });
});
