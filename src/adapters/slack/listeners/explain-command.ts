import { availableTo, whoCan, whyFor, type Asker } from '../../../app/explain-access';
import type { ParsedCommand } from '../../../domain/command';
import { explanationMessage, type SlackAnswer } from '../views/explanation';
import type { SlackDoor } from './context';

export type ExplainCommand = Extract<ParsedCommand, { kind: 'whocan' | 'why' | 'available' }>;

export const isExplainCommand = (parsed: ParsedCommand): parsed is ExplainCommand => parsed.kind === 'whocan' || parsed.kind === 'why' || parsed.kind === 'available';

/** `/aws-access whocan …`, `why …` or `available`: an ephemeral explanation read off the rules' evaluation. */
export async function explainAnswer(door: SlackDoor, parsed: ExplainCommand, asker: Asker): Promise<SlackAnswer> {
  const explanation =
    parsed.kind === 'available' ? await availableTo(door.deps, asker) : parsed.kind === 'whocan' ? await whoCan(door.deps, asker, parsed.spec) : await whyFor(door.deps, asker, parsed.spec);
  return explanationMessage(explanation);
}
