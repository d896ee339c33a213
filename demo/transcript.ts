/** Renders Slack messages as a person would read them in the client, for the demo transcript. */

const NAMES: Record<string, string> = {};

export function knowPerson(id: string, name: string): void {
  NAMES[id] = name;
}

/** mrkdwn → what the Slack client shows: mentions and dates resolved, entities decoded. */
export function readable(mrkdwn: string): string {
  return mrkdwn
    .replace(/<@([A-Z0-9]+)>/g, (_m, id: string) => `@${NAMES[id] ?? id}`)
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, label?: string) => `#${label ?? (id === 'C0APPROVALS' ? 'aws-approvals' : id)}`)
    .replace(/<!date\^\d+\^[^|]*\|([^>]*)>/g, '$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/:[a-z_]+: /g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

interface Block {
  type: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ text?: string | { text: string } }>;
}

export function renderBlocks(blocks: unknown[] | undefined, fallback = ''): string[] {
  if (!blocks || blocks.length === 0) return [readable(fallback)];
  const lines: string[] = [];
  for (const block of blocks as Block[]) {
    switch (block.type) {
      case 'header':
        lines.push(`**${block.text?.text ?? ''}**`);
        break;
      case 'section':
        if (block.text) lines.push(...readable(block.text.text).split('\n'));
        if (block.fields) lines.push(block.fields.map((f) => readable(f.text).replace('\n', ': ')).join('   '));
        break;
      case 'context':
        lines.push((block.elements ?? []).map((e) => readable(typeof e.text === 'string' ? e.text : (e.text?.text ?? ''))).join(' '));
        break;
      case 'actions':
        lines.push((block.elements ?? []).map((e) => `[ ${typeof e.text === 'object' ? e.text.text : ''} ]`).join(' '));
        break;
      default:
        break;
    }
  }
  return lines;
}

export function box(title: string, lines: string[]): string {
  const width = Math.max(title.length + 4, ...lines.map((l) => l.length + 4), 40);
  const top = `┌─ ${title} ${'─'.repeat(Math.max(0, width - title.length - 4))}┐`;
  const body = lines.map((l) => `│ ${l.padEnd(width - 3)}│`);
  return [top, ...body, `└${'─'.repeat(width - 1)}┘`].join('\n');
}
