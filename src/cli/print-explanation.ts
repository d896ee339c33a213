import type { Explanation } from '../domain/explain';

/** An explanation as plain terminal text: the same words Slack shows. */
export function explanationText(explanation: Explanation): string {
  const lines = [explanation.title];
  for (const section of explanation.sections) {
    lines.push('');
    if (section.heading) lines.push(`${section.heading}:`);
    lines.push(...section.lines.map((l) => (section.heading ? `  ${l}` : l)));
  }
  return lines.join('\n');
}
