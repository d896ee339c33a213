import { verifyChain, type ChainProblem } from '../../domain/audit';
import { RANGE_HELP, RANGE_OPTIONS, rangeOf } from '../audit-range';
import { auditRecords, openAuditLog, sha256Hex } from '../audit-store';
import type { Subcommand } from '../subcommand';

/** At most this many problems are printed one per line; the count always covers them all. */
const SHOWN_PROBLEMS = 1_000;

/** `timebox audit verify`: recomputes every request's audit chain and reports where one breaks. */
export const auditVerify: Subcommand = {
  path: ['audit', 'verify'],
  summary: "recompute the audit log's hash chains: report events altered, removed or reordered",
  help: [
    'Usage: timebox audit verify [--since 7d | --from ISO [--to ISO]]',
    '',
    'For each request with an event in the range (default: every request), recomputes the hash',
    'chain of its whole log from the configured store (TIMEBOX_DATA_DIR or TIMEBOX_TABLE, as for',
    '`audit export`) and checks it against the chain head its request records. Prints one line per',
    'problem (the request, the event, and whether it was altered, removed or reordered, or the log',
    'cut short), then a count of what it checked. Exit 0: every chain holds; 1: a problem was found.',
    'Events written before the chain (older releases) are counted as unchained, not checked.',
    '',
    RANGE_HELP,
  ].join('\n'),
  options: { ...RANGE_OPTIONS },
  async run(values, io) {
    const range = rangeOf(values, Date.now());
    const opened = await openAuditLog(io.env);
    let requests = 0;
    let checked = 0;
    let unchained = 0;
    let problems = 0;
    const broken = new Set<string>();
    const report = (p: ChainProblem) => {
      problems += 1;
      broken.add(p.requestId);
      if (problems <= SHOWN_PROBLEMS) io.out(`${p.requestId}: ${p.problem}${p.seq ? ` at ${p.seq}` : ''}: ${p.detail}`);
    };
    try {
      for await (const { request, events } of auditRecords(opened.log, range)) {
        requests += 1;
        const result = verifyChain(request.id, events, request.auditHead, sha256Hex);
        checked += result.checked;
        unchained += result.unchained;
        result.problems.forEach(report);
      }
    } finally {
      await opened.close();
    }
    const summary = `checked ${checked} events in ${requests} requests${unchained ? ` (${unchained} unchained, from before the chain)` : ''}`;
    io.out(problems === 0 ? `${summary}: every chain holds` : `${summary}: ${problems} problem${problems === 1 ? '' : 's'} in ${broken.size} request${broken.size === 1 ? '' : 's'}`);
    return problems === 0 ? 0 : 1;
  },
};
