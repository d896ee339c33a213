import { cancelRequest } from '../../../app/cancel-request';
import { listOpenRequests, viewRequest } from '../../../app/list-requests';
import { isTimeboxError } from '../../../domain/errors';
import { escapeMrkdwn } from '../views/mrkdwn';
import { openRequestsText, requestStatusText } from '../views/request-list';
import { targetName } from '../views/target-text';
import { GENERIC_FAILURE, PICKED_UP_SHORTLY, WARNING, type SlackDoor } from './context';

export interface Who {
  slackUserId: string;
  workspace: string | undefined;
}

/** What to say for an error: a refusal names its reason and that nothing changed; anything else is generic (and logged). */
function refusal(err: unknown, what: string, log: (message: string) => void): string {
  if (isTimeboxError(err)) return `${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`;
  log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  return GENERIC_FAILURE;
}

/** `/aws-access list`. Never throws. */
export async function listAndDescribe(door: SlackDoor, who: Who, log: (message: string) => void): Promise<string> {
  try {
    return openRequestsText(await listOpenRequests(door.deps, who.slackUserId), door.deps.clock.now());
  } catch (err) {
    return refusal(err, 'list', log);
  }
}

/** `/aws-access status <id>`. Never throws. */
export async function statusAndDescribe(door: SlackDoor, requestId: string, who: Who, log: (message: string) => void): Promise<string> {
  try {
    const request = await viewRequest(door.deps, { requestId, bySlackUserId: who.slackUserId, ...(who.workspace ? { workspace: who.workspace } : {}) });
    return requestStatusText(request);
  } catch (err) {
    return isTimeboxError(err) ? `${WARNING} ${escapeMrkdwn(err.message)}` : refusal(err, `status of ${requestId}`, log);
  }
}

/** `/aws-access cancel <id>` and Home's Cancel. Never throws. */
export async function cancelAndDescribe(door: SlackDoor, requestId: string, who: Who, log: (message: string) => void): Promise<string> {
  try {
    const { request, withdrawn, handedOff } = await cancelRequest(door.deps, { requestId, bySlackUserId: who.slackUserId });
    const still = request.grants.filter((g) => g.status === 'ACTIVE');
    return [
      `:heavy_multiplication_x: Cancelled request \`${request.id}\`: withdrawn ${withdrawn.map((g) => targetName(g.target)).join(', ')}; it can no longer be approved.`,
      still.length > 0 ? `Still active: ${still.map((g) => targetName(g.target)).join(', ')} (end it with \`/aws-access end ${request.id}\`).` : '',
      handedOff ? '' : PICKED_UP_SHORTLY,
    ]
      .filter(Boolean)
      .join(' ');
  } catch (err) {
    return refusal(err, `cancel of ${requestId}`, log);
  }
}
