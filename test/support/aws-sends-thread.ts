/**
 * Required in the Timebox child's workflow thread when its knobs ask for `awsSendLog`: that thread
 * makes the AWS calls, so it records their send times (aws-sends.ts) and writes them to the file
 * once the workflow has stopped (SIGTERM).
 */
import { writeFileSync } from 'node:fs';
import { recordAwsSends } from './aws-sends';
import { childKnobs } from './child-timebox';

const sends = recordAwsSends();

export function onStop(): void {
  const file = childKnobs().awsSendLog;
  if (file) writeFileSync(file, JSON.stringify(sends.calls));
}
