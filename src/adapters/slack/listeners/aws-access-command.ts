import type { App, SlackCommandMiddlewareArgs, AllMiddlewareArgs } from '@slack/bolt';
import { USAGE, parseCommand } from '../../../domain/command';
import type { AccessRequest, Grant } from '../../../domain/access-request';
import { whereAsked } from '../../../domain/approvers';
import { formatDuration } from '../../../domain/duration';
import type { Identity } from '../../../domain/identity';
import type { Policy } from '../../../domain/policy';
import { isTimeboxError } from '../../../domain/errors';
import { lookUpMember } from '../../../app/members';
import { submitRequest, type FiledRequest } from '../../../app/submit-request';
import { escapeMrkdwn } from '../views/mrkdwn';
import { requestSubject, targetText } from '../views/target-text';
import { askerMetadata, groupModal, requestModal } from '../views/request-modal';
import { formNotOpened, GENERIC_FAILURE, openView, PICKED_UP_SHORTLY, WARNING, type SlackDoor } from './context';
import { endAndDescribe } from './end-button';
import { extendAndDescribe } from './extend-submission';
import { explainAnswer, isExplainCommand } from './explain-command';
import { identityForEveryRule } from '../../../app/explain-access';
import { tellPerson, type Answer } from './tell-person';
import { breakGlassFiledMessage } from '../views/break-glass-alert';
import { offersBreakGlass } from '../../../app/break-glass';
import { cancelAndDescribe, listAndDescribe, statusAndDescribe } from './subcommands';

export const COMMAND = '/aws-access';

/** "in <#C1> and by DM to its approvers": where the approvers of these waiting grants are asked. */
function whereAskedText(policy: Policy, request: AccessRequest, waiting: Grant[], approvalChannel: string): string {
  const { channels, byDm } = whereAsked(policy, request, waiting);
  const places = [...channels.map((c) => `in <#${c ?? approvalChannel}>`), ...(byDm ? ['by DM to its approvers'] : [])];
  return places.length > 0 ? places.join(' and ') : `in <#${approvalChannel}>`;
}

/** What the requester is told once a request is filed (ephemeral). */
export function filedMessage({ request, handedOff }: FiledRequest, approvalChannel: string, policy: Policy): string {
  const what = `${requestSubject(request, true)} for ${formatDuration(request.durationMs)}`;
  const later = handedOff ? '' : ` ${PICKED_UP_SHORTLY}`;
  if (request.breakGlass) return breakGlassFiledMessage(request, approvalChannel, later);
  const auto = request.grants.filter((g) => g.autoApproved);
  const waiting = request.grants.filter((g) => !g.autoApproved);
  const where = whereAskedText(policy, request, waiting, approvalChannel);
  if (auto.length === request.grants.length) return `:rocket: Request \`${request.id}\`: ${what} was approved automatically. I'll DM you when it is active.${later}`;
  if (auto.length === 0) return `:inbox_tray: Request \`${request.id}\`: ${what} is waiting for approval ${where}. I'll DM you when it is decided.${later}`;
  const list = (gs: typeof auto) => gs.map((g) => targetText(g.target)).join(', ');
  return (
    `:inbox_tray: Request \`${request.id}\`: ${what}. Approved automatically: ${list(auto)}. ` +
    `Waiting for approval ${where}: ${list(waiting)}. I'll DM you as each is decided.${later}`
  );
}

/** `/aws-access` (form), `help`, `list`, `status <request id>`, `cancel <request id>`, `end <request id>`, or `/aws-access <account> <permission-set> <duration> <reason…>`. */
export function awsAccessCommand(door: SlackDoor) {
  return async ({ command, ack, respond, client, logger }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    /** What to tell the user about an error: a refusal names its reason; anything else is generic (and logged). */
    const failure = (err: unknown): string => {
      if (isTimeboxError(err)) return `${WARNING} ${escapeMrkdwn(err.message)}`;
      logger.error(`/aws-access failed: ${err instanceof Error ? err.message : String(err)}`);
      return GENERIC_FAILURE;
    };
    /**
     * Answers with what `work` finds. With door.ackFirst (one process: Bolt's HTTP receiver sends
     * the ack at once), Slack gets its ack before any I/O and the answer follows on the
     * response_url; on Lambda the reply waits for the listener anyway, so the answer is the ack.
     * Either way nothing is said to be filed before it is stored. Should the response_url fail,
     * the answer goes to the channel, then by DM.
     */
    const answer = async (work: () => Promise<Answer | undefined>): Promise<void> => {
      const settled = () => work().catch(failure);
      if (!door.ackFirst) {
        const settledAnswer = await settled();
        await ack(settledAnswer === undefined ? undefined : { response_type: 'ephemeral', ...(typeof settledAnswer === 'string' ? { text: settledAnswer } : settledAnswer) });
        return;
      }
      await ack();
      const text = await settled();
      if (text === undefined) return;
      const to = { userId: command.user_id, channelId: command.channel_id, respond: (m: Exclude<Answer, string>) => respond({ response_type: 'ephemeral', ...m }) };
      await tellPerson(client, to, text).catch((err: unknown) => logger.warn(`could not answer ${command.user_id}: ${err instanceof Error ? err.message : String(err)}`));
    };
    try {
      const parsed = parseCommand(command.text ?? '');
      if (parsed.kind === 'help') {
        await ack({ response_type: 'ephemeral', text: USAGE });
        return;
      }
      const who = { slackUserId: command.user_id, workspace: command.team_id };
      const log = (m: string) => logger.error(m);
      if (parsed.kind === 'end') {
        await answer(() => endAndDescribe(door, parsed.requestId, who, log));
        return;
      }
      if (parsed.kind === 'list') {
        await answer(() => listAndDescribe(door, who, log));
        return;
      }
      if (parsed.kind === 'status') {
        await answer(() => statusAndDescribe(door, parsed.requestId, who, log));
        return;
      }
      if (parsed.kind === 'cancel') {
        await answer(() => cancelAndDescribe(door, parsed.requestId, who, log));
        return;
      }
      if (isExplainCommand(parsed)) {
        await answer(() => explainAnswer(door, parsed, { slackUserId: command.user_id, workspace: command.team_id }));
        return;
      }
      if (parsed.kind === 'extend') {
        await answer(() => extendAndDescribe(door, parsed, { ...who, key: `command:${command.team_id}:${command.trigger_id}` }, log));
        return;
      }
      if (parsed.kind === 'modal') {
        // The form lists every account (with its id), permission set and group: members only.
        // Acked first (with door.ackFirst Slack has its answer before any I/O), then one users.info
        // (cached for a minute), and views.open well inside trigger_id's 3 seconds. Nothing is said
        // when the form opens; a refusal, or Slack failing to open it, is answered.
        await answer(async () => {
          const member = await lookUpMember(door.deps, command.user_id, command.team_id, 'request');
          // Who they are against the rules' groups, once: the menus list what they may request first.
          const person = await identityForEveryRule(door.deps, member).catch((err: unknown): Identity => {
            logger.warn(`could not resolve ${command.user_id}'s groups for the form's menus: ${err instanceof Error ? err.message : String(err)}`);
            return member;
          });
          const metadata = askerMetadata(person, command.channel_id);
          const view =
            parsed.targets === 'group' ? groupModal(door.deps.policy, metadata, person) : requestModal(door.deps.policy, metadata, await offersBreakGlass(door.deps, member, person), person);
          if (!view) return `${WARNING} No groups are configured, so there is no group membership to request.`;
          try {
            await openView(client, command.trigger_id, view);
          } catch (err) {
            logger.warn(`/aws-access could not open the form: ${err instanceof Error ? err.message : String(err)}`);
            return formNotOpened(err);
          }
          return undefined;
        });
        return;
      }
      // A typo is answered with the known accounts, permission sets or groups, so it is answered
      // after the membership check (in submitRequest), like any other refusal.
      await answer(async () => {
        const filed = await submitRequest(door.deps, {
          requesterSlackUserId: command.user_id,
          spec: parsed.spec,
          durationMs: parsed.durationMs,
          reason: parsed.reason,
          idempotencyKey: `command:${command.team_id}:${command.trigger_id}`,
          workspace: command.team_id,
          ...(parsed.breakGlass ? { breakGlass: true } : {}),
        });
        return filedMessage(filed, door.approvalChannel, door.deps.policy);
      });
    } catch (err) {
      await ack({ response_type: 'ephemeral', text: failure(err) });
    }
  };
}

export function registerCommands(app: App, door: SlackDoor): void {
  app.command(COMMAND, awsAccessCommand(door));
}
