/**
 * DynamoDB requests per one-grant lifecycle (request → approve → grant → revoke, with its news),
 * counted on the wire between the local process and its embedded store (dynalite): a quick,
 * focused companion to `npm run bench` item 6 (which counts the AWS path). Everything the process
 * sends while one lifecycle runs is counted, App Home refreshes included; nothing else runs.
 *
 *   npx tsx bench/store-cost-local.ts [lifecycles=5] [--trace]
 *
 * With --trace, each request of the last lifecycle is listed in order with the code path that
 * issued it (the src/ functions on its stack, innermost first).
 */
import { APPROVAL_CHANNEL, buttonClick, PEOPLE, TimeboxHarness } from '../test/support/timebox-harness';
import { eventually } from '../test/support/eventually';
import { listStoreRequests, watchStoreRequests } from '../test/support/store-requests';
import { findRequestId } from '../src/domain/request-id';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const trace = args.includes('--trace');
  const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
  const h = await TimeboxHarness.start();
  const watch = watchStoreRequests(h.runtime.dynamo);
  const totals: number[] = [];
  const byKind = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    watch.requests.length = 0;
    watch.counting = true;
    // Waits only on what Slack and AWS see, never on the store, so the test's own reads are not counted.
    const { text } = await h.command('carol', `production Admin 2s store cost ${i}`);
    const id = findRequestId(text)!;
    const message = await h.slack.waitFor(() => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes(id)), 10_000, 'approval message');
    await h.sender.blockAction(buttonClick(h.slack, PEOPLE.alice, 'timebox_approve', id, message));
    await eventually(async () => (h.hasAssignment('carol', 'production', 'Admin') ? true : undefined), 10_000, 'granted');
    await eventually(async () => (!h.hasAssignment('carol', 'production', 'Admin') ? true : undefined), 10_000, 'revoked');
    await eventually(async () => (h.dmTextsTo('carol').some((t) => t.includes(id) && t.includes('has ended')) ? true : undefined), 10_000, 'the ended DM');
    await h.settled(); // news and Home refreshes after the last change
    watch.counting = false;
    totals.push(watch.requests.length);
    for (const { call } of watch.requests) byKind.set(call, (byKind.get(call) ?? 0) + 1);
  }
  await h.stop();
  const sorted = [...totals].sort((a, b) => a - b);
  console.log(`DynamoDB requests per one-grant lifecycle (local, dynalite): median ${sorted[Math.floor(sorted.length / 2)]} (min ${sorted[0]}, max ${sorted.at(-1)}, ${runs} lifecycles)`);
  for (const [kind, n] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${(n / runs).toFixed(1).padStart(5)}  ${kind}`);
  if (trace) console.log(`\nThe last lifecycle, request by request (operation, item, code path):\n${listStoreRequests(watch.requests)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
