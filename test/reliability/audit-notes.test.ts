import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { sha256Hex } from '../../src/adapters/audit/sha256';
import { verifyChain } from '../../src/domain/audit';
import { eventually } from '../support/eventually';
import { PEOPLE, TimeboxHarness } from '../support/timebox-harness';

/**
 * Makes the store answer "the conditional request failed" (what DynamoDB says to the writer that
 * lost a race) to the next `times` request writes that carry a note of `type`, as if that many
 * other writes of the request had landed first. Returns how many it answered so.
 */
let injected = 0;
function loseNoteRaces(h: TimeboxHarness, type: string, times: number): () => number {
  let lost = 0;
  h.runtime.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName;
      const input = (args as { input?: { ExpressionAttributeValues?: Record<string, unknown> } }).input;
      if (name === 'UpdateItemCommand' && lost < times && JSON.stringify(input?.ExpressionAttributeValues ?? {}).includes(`"type":"${type}"`)) {
        lost += 1;
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    },
    { step: 'initialize', name: `lose-${type}-races-${++injected}` },
  );
  return () => lost;
}

describe('explain-audit: an audit note is never lost to a race', () => {
  let h: TimeboxHarness;
  const logLines: string[] = [];

  beforeAll(async () => {
    h = await TimeboxHarness.start({
      // A short bound, so "cannot be written at all" is reached within the test; the default is generous.
      workflow: { noteRetries: 30 },
      logger: pino({ level: 'error' }, { write: (line: string) => logLines.push(line) }),
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('a refused click whose note loses its race 20 times in a row (more than any other write retries) is on record once, and the chain holds', async () => {
    const id = await h.file('carol', 'production Admin 30m note under contention');
    await h.approvalMessage(id);
    const lost = loseNoteRaces(h, 'decision_refused', 20);
    const reply = await h.nextEphemeral('dave', () => h.click('dave', 'approve', id));
    expect(reply).toMatch(/not an approver|may not|cannot/i);
    const refusals = await eventually(async () => {
      const found = (await h.audit(id)).filter((e) => e.type === 'decision_refused');
      return found.length > 0 ? found : undefined;
    }, 10_000, 'the refusal to be on record');
    await h.settled();
    expect(lost()).toBe(20);
    expect((await h.audit(id)).filter((e) => e.type === 'decision_refused')).toEqual([expect.objectContaining({ actor: PEOPLE.dave.id })]);
    expect(refusals).toHaveLength(1);
    const request = await h.runtime.deps.store.getRequest(id);
    expect(verifyChain(id, await h.runtime.deps.store.listAudit(id), request?.auditHead, sha256Hex).problems).toEqual([]);
    expect(logLines.filter((l) => l.includes('audit note'))).toEqual([]);
  });

  test('a note the store refuses every time is logged at error level with the event in full, and the click is still answered as refused', async () => {
    const id = await h.file('carol', 'production Admin 30m note never lands');
    await h.approvalMessage(id);
    const lost = loseNoteRaces(h, 'decision_refused', Number.POSITIVE_INFINITY);
    const reply = await h.nextEphemeral('dave', () => h.click('dave', 'approve', id));
    expect(reply).toMatch(/not an approver|may not|cannot/i);
    const logged = await eventually(async () => logLines.find((l) => l.includes('audit note could not be written') && l.includes(id)), 10_000, 'the lost note to be logged');
    const entry = JSON.parse(logged) as { level: number; event: Record<string, unknown> };
    expect(entry.level).toBe(50); // error
    expect(entry.event).toEqual(expect.objectContaining({ requestId: id, type: 'decision_refused', actor: PEOPLE.dave.id, detail: expect.stringContaining('approve') }));
    expect(typeof entry.event.at).toBe('number');
    expect(lost()).toBeGreaterThan(30);
  });
});
