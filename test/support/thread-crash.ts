/**
 * Required in the Timebox child's workflow thread when its knobs set `crashThreadAtSlackMethod`:
 * the first time that thread calls that Slack Web API method, it throws an uncaught error, as a
 * bug in the workflow would, or (`crashThreadBy: 'memory'`) holds ever more memory until the
 * thread's heap limit (TIMEBOX_WORKFLOW_HEAP_MB) is reached.
 */
import diagnostics from 'node:diagnostics_channel';
import { childKnobs } from './child-timebox';

const { crashThreadAtSlackMethod: method, crashThreadBy } = childKnobs();
const held: string[][] = [];
let crashed = false;
// The Slack Web API client calls Slack with fetch (undici), whose requests are announced here.
diagnostics.subscribe('undici:request:create', (message: unknown) => {
  const { path } = (message as { request: { path: string } }).request;
  if (crashed || !method || !path.endsWith(`/${method}`)) return;
  crashed = true;
  if (crashThreadBy === 'memory') {
    const fill = () => {
      held.push(Array.from({ length: 100_000 }, (_, i) => `held ${held.length} ${i}`));
      setImmediate(fill);
    };
    return setImmediate(fill);
  }
  setImmediate(() => {
    throw new Error(`injected crash at ${method}`);
  });
});
