import type { KnownBlock } from '@slack/types';
import type { Explanation } from '../../../domain/explain';
import { escapeMrkdwn, truncate } from './mrkdwn';

/** Slack's limits for a message: 50 blocks, 3,000 characters of section text, 150 of header. */
const MAX_BLOCKS = 50;
const SECTION_CHARS = 3_000;
const HEADER_CHARS = 150;
/** The fallback text (notifications, and clients without blocks) is a short plain copy. */
const FALLBACK_CHARS = 3_000;

export interface SlackAnswer {
  text: string;
  blocks: KnownBlock[];
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A section's mrkdwn: its heading in bold, then as many lines as fit, then a count of the rest. */
function sectionText(section: Explanation['sections'][number]): string {
  const heading = section.heading ? `*${escapeMrkdwn(section.heading)}*` : '';
  const lines = section.lines.map((l) => `• ${escapeMrkdwn(l)}`);
  const fits: string[] = heading ? [heading] : [];
  let used = heading.length;
  for (const [i, line] of lines.entries()) {
    const rest = lines.length - i;
    const note = `…and ${plural(rest, 'more line', 'more lines')} not shown`;
    // Room is kept for the note whenever lines are left after this one.
    const room = SECTION_CHARS - used - (i < lines.length - 1 ? note.length + 1 : 0) - 1;
    if (line.length > room) {
      fits.push(note);
      break;
    }
    fits.push(line);
    used += line.length + 1;
  }
  return truncate(fits.join('\n'), SECTION_CHARS);
}

/**
 * An explanation as an ephemeral Slack message: a header, one section per part, within Slack's
 * limits; parts past the 50th block are counted in a last section instead of shown.
 */
export function explanationMessage(explanation: Explanation): SlackAnswer {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(explanation.title, HEADER_CHARS) } }];
  const room = MAX_BLOCKS - blocks.length;
  const sections = explanation.sections;
  const shown = sections.length <= room ? sections : sections.slice(0, room - 1);
  for (const section of shown) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: sectionText(section) } });
  if (shown.length < sections.length) {
    const hidden = sections.slice(shown.length);
    const lines = hidden.reduce((n, s) => n + s.lines.length, 0);
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `…and ${plural(hidden.length, 'more part', 'more parts')} (${plural(lines, 'line', 'lines')}) not shown: Slack limits a message's size.` },
    });
  }
  const plain = [explanation.title, ...sections.flatMap((s) => [...(s.heading ? [s.heading] : []), ...s.lines])].join('\n');
  return { text: truncate(escapeMrkdwn(plain), FALLBACK_CHARS), blocks };
}
