import type { ModalView } from '@slack/types';
import type { AccessRequest, Grant } from '../../../domain/access-request';
import type { Policy } from '../../../domain/policy';
import { extendFormIntro } from './extend-text';
import { durationAndReason } from './request-modal';

export const EXTEND_MODAL_CALLBACK = 'timebox_extend_form';

/** What the extend form remembers: the request it extends, and where to confirm. */
export interface ExtendModalMetadata {
  requestId: string;
  channelId?: string;
}

/** The small form the Extend button opens: how much longer, and why. */
export function extendModal(policy: Policy, request: AccessRequest, ending: Grant[], metadata: ExtendModalMetadata): ModalView {
  return {
    type: 'modal',
    callback_id: EXTEND_MODAL_CALLBACK,
    title: { type: 'plain_text', text: 'Extend AWS access' },
    submit: { type: 'plain_text', text: 'Extend' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(metadata),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: extendFormIntro(request, ending) } }, ...durationAndReason(policy)],
  };
}
