import { reconcileAssignments } from '../../app/reconcile-assignments';
import { sweepDueRequests } from '../../app/sweep';
import { MAX_WAIT_MS } from '../../adapters/scheduler/eventbridge-scheduler';
import { jobEvent } from './job-event';
import { AwsOrganizationReader, discoveryClients } from '../../adapters/organizations/organization-reader';
import type { CatalogueRefreshOutcome } from './lambda-catalogue';
import { CloudWatchAlarms } from '../../adapters/alarms/revoke-alarms';
import { lambdaRuntime } from './lambda-runtime';

/** Only the sweep reads AWS for discovery, at the reader's default pace (5 calls a second to each service). */
const reader = (config: { identityCenter: { instanceArn: string } }) => {
  const { organizations, ssoAdmin } = discoveryClients();
  return new AwsOrganizationReader(organizations, ssoAdmin, { instanceArn: config.identityCenter.instanceArn });
};

/**
 * Every 5 minutes: hand every overdue request to the worker (the safety net under Scheduler),
 * then compare Timebox's leases with Identity Center and remove orphans Timebox created, then
 * (with a config that discovers) refresh the discovery cache if it is older than
 * discovery.refresh and no other sweep is reading AWS. Invoked by a schedule with a job and its
 * `notBefore`, it waits until then and hands the job over.
 */
export async function handler(event?: unknown): Promise<{ dispatched: number; orphansRevoked: number; catalogue?: CatalogueRefreshOutcome }> {
  const runtime = await lambdaRuntime('sweep', { reader, alarms: CloudWatchAlarms });
  // Also the waiter: a schedule fired ahead of a window's end (see fireTime) waits here, where it
  // holds none of the worker's reserved slots, and hands the job over on time.
  const waiting = jobEvent.safeParse(event);
  if (waiting.success && waiting.data.notBefore !== undefined) {
    const { notBefore, ...job } = waiting.data;
    const wait = Math.min(notBefore - runtime.deps.clock.now(), MAX_WAIT_MS);
    if (wait > 0) await runtime.deps.sleep(wait);
    await runtime.deps.queue.dispatch(job);
    return { dispatched: 1, orphansRevoked: 0 };
  }
  const result = await sweepDueRequests(runtime.deps, 0);
  const report = await reconcileAssignments(runtime.deps);
  // Last: the safety net never waits for a read of the organisation (about 219 s at 1,000 accounts).
  const catalogue = runtime.catalogue ? { catalogue: await runtime.catalogue.refreshIfStale(runtime.deps.store) } : {};
  return { dispatched: result.dispatched.length, orphansRevoked: report.orphansRevoked.length, ...catalogue };
}
