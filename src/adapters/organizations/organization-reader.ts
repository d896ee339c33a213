import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  type Account as OrgAccount,
  type OrganizationalUnit,
} from '@aws-sdk/client-organizations';
import { DescribePermissionSetCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { DiscoveryFailedError, type CatalogueAccount, type CataloguePermissionSet, type OrgUnit } from '../../domain/catalogue';
import type { OrganizationReader } from '../../app/ports';
import { describe as describeAwsError } from '../identity-center/check-instance';
import { parseSessionDuration } from '../identity-center/identity-center-adapter';
import { RateLimiter } from '../identity-center/rate-limiter';
import { Semaphore } from '../identity-center/semaphore';

export interface OrganizationReaderOptions {
  instanceArn: string;
  /** Calls to each service in flight at once (default 4). */
  concurrency?: number;
  /**
   * Calls per second to Organizations and to SSO Admin (each). Organizations throttles at a few
   * TPS per account and SSO Admin around 20, shared with grants and revokes: discovery stays well
   * under both (default 5), and the SDK's adaptive retry backs off if it is throttled anyway.
   */
  callsPerSecond?: number;
}

/** Organizations' List calls take at most 20 a page; ListPermissionSets 100. */
const ORG_PAGE = 20;
const PERMISSION_SET_PAGE = 100;
/** More pages than any organisation has: a token that never ends is a broken answer, not a big org. */
const MAX_PAGES = 10_000;

/**
 * The SDK clients discovery needs, with adaptive retry (client-side rate limiting after a throttle)
 * and room to retry. Endpoints, region and credentials come from the SDK's own chain
 * (AWS_ENDPOINT_URL_ORGANIZATIONS, AWS_ENDPOINT_URL_SSO_ADMIN), as for every other adapter.
 */
export function discoveryClients(maxAttempts = 8): { organizations: OrganizationsClient; ssoAdmin: SSOAdminClient } {
  return {
    organizations: new OrganizationsClient({ retryMode: 'adaptive', maxAttempts }),
    ssoAdmin: new SSOAdminClient({ retryMode: 'adaptive', maxAttempts }),
  };
}

/**
 * One read's shared fate: after its first failure, calls not yet sent are not sent, and the read
 * returns only once every call already sent has finished. So a failed read leaves nothing running
 * against AWS (a thousand queued tag reads would otherwise go on, and overlap the next refresh).
 */
class ReadRun {
  failure: DiscoveryFailedError | undefined;

  async settle<T>(tasks: Array<Promise<T>>): Promise<T[]> {
    const results = await Promise.allSettled(tasks);
    if (this.failure) throw this.failure;
    return results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
  }

  fail(error: DiscoveryFailedError): DiscoveryFailedError {
    this.failure ??= error;
    return this.failure;
  }
}

/** AWS answered (an HTTP status came back), as opposed to never being reached. */
function answeredByAws(err: unknown): boolean {
  return typeof (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 'number';
}

/** An account is active when its State (or, from older answers, its Status) says so. */
function isActive(account: OrgAccount): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

/**
 * Reads the organisation (accounts, their OU path and tags) from Organizations and the permission
 * sets from Identity Center. Every page of every listing is read; suspended, closed and closing
 * accounts are left out. The OU tree is walked from the root with ListOrganizationalUnitsForParent
 * and ListAccountsForParent, which yields every account and where it sits in one pass (ListAccounts
 * would add 50 calls at 1,000 accounts and say nothing the walk does not). Tags cost one
 * ListTagsForResource per account: the bulk of the calls, so calls are spaced and bounded.
 */
export class AwsOrganizationReader implements OrganizationReader {
  private readonly orgSlots: Semaphore;
  private readonly ssoSlots: Semaphore;
  private readonly orgRate: RateLimiter;
  private readonly ssoRate: RateLimiter;

  constructor(
    private readonly organizations: OrganizationsClient,
    private readonly ssoAdmin: SSOAdminClient,
    private readonly options: OrganizationReaderOptions,
  ) {
    this.orgSlots = new Semaphore(options.concurrency ?? 4);
    this.ssoSlots = new Semaphore(options.concurrency ?? 4);
    this.orgRate = new RateLimiter(options.callsPerSecond ?? 5);
    this.ssoRate = new RateLimiter(options.callsPerSecond ?? 5);
  }

  async readAccounts(): Promise<CatalogueAccount[]> {
    const run = new ReadRun();
    const roots = await this.allPages(run, 'organizations:ListRoots', (NextToken) =>
      this.org(run, (c) => c.send(new ListRootsCommand({ MaxResults: ORG_PAGE, NextToken }))).then((o) => ({ items: o.Roots ?? [], next: o.NextToken })),
    );
    const found: Array<{ account: OrgAccount; ouPath: OrgUnit[] }> = [];
    // Breadth first, one level at a time; within a level every parent is read at once (bounded by the slots).
    let level: Array<{ parentId: string; path: OrgUnit[] }> = roots.flatMap((r) => (r.Id ? [{ parentId: r.Id, path: [] }] : []));
    while (level.length > 0) {
      const next = await run.settle(
        level.map(async ({ parentId, path }) => {
          const [units, accounts] = await run.settle<unknown[]>([
            this.allPages(run, `organizations:ListOrganizationalUnitsForParent ${parentId}`, (NextToken) =>
              this.org(run, (c) => c.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, MaxResults: ORG_PAGE, NextToken }))).then((o) => ({
                items: o.OrganizationalUnits ?? [],
                next: o.NextToken,
              })),
            ),
            this.allPages(run, `organizations:ListAccountsForParent ${parentId}`, (NextToken) =>
              this.org(run, (c) => c.send(new ListAccountsForParentCommand({ ParentId: parentId, MaxResults: ORG_PAGE, NextToken }))).then((o) => ({ items: o.Accounts ?? [], next: o.NextToken })),
            ),
          ]) as [OrganizationalUnit[], OrgAccount[]];
          for (const account of accounts) found.push({ account, ouPath: path });
          return units.flatMap((u) => (u.Id ? [{ parentId: u.Id, path: [...path, { id: u.Id, name: u.Name ?? u.Id }] }] : []));
        }),
      );
      level = next.flat();
    }
    const active = found.filter((f) => f.account.Id && isActive(f.account));
    return run.settle(
      active.map(async ({ account, ouPath }) => {
        const id = account.Id as string;
        const tags = await this.allPages(run, `organizations:ListTagsForResource ${id}`, (NextToken) =>
          this.org(run, (c) => c.send(new ListTagsForResourceCommand({ ResourceId: id, NextToken }))).then((o) => ({ items: o.Tags ?? [], next: o.NextToken })),
        );
        return { id, name: account.Name ?? id, ouPath, tags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])) };
      }),
    );
  }

  async readPermissionSets(): Promise<CataloguePermissionSet[]> {
    const instanceArn = this.options.instanceArn;
    const run = new ReadRun();
    const arns = await this.allPages(run, 'sso:ListPermissionSets', (NextToken) =>
      this.sso(run, (c) => c.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, MaxResults: PERMISSION_SET_PAGE, NextToken }))).then((o) => ({
        items: o.PermissionSets ?? [],
        next: o.NextToken,
      })),
    );
    return run.settle(
      arns.map(async (arn) => {
        const out = await this.call(run, `sso:DescribePermissionSet ${arn}`, () => this.sso(run, (c) => c.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }))));
        const ps = out.PermissionSet;
        return {
          arn,
          name: ps?.Name ?? arn,
          ...(ps?.Description ? { description: ps.Description } : {}),
          ...(ps?.SessionDuration ? { sessionDurationMs: parseSessionDuration(ps.SessionDuration) } : {}),
        };
      }),
    );
  }

  private async org<T>(run: ReadRun, send: (client: OrganizationsClient) => Promise<T>): Promise<T> {
    return this.orgSlots.run(async () => {
      await this.orgRate.take();
      if (run.failure) throw run.failure;
      return send(this.organizations);
    });
  }

  private async sso<T>(run: ReadRun, send: (client: SSOAdminClient) => Promise<T>): Promise<T> {
    return this.ssoSlots.run(async () => {
      await this.ssoRate.take();
      if (run.failure) throw run.failure;
      return send(this.ssoAdmin);
    });
  }

  /** Every page, following NextToken until there is none (a page may be short, even empty, and still have one). */
  private async allPages<T>(run: ReadRun, what: string, page: (nextToken: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw run.fail(new DiscoveryFailedError(`discovery stopped: ${what} kept answering NextToken after ${MAX_PAGES} pages`));
      const out = await this.call(run, what, () => page(token));
      items.push(...out.items);
      if (!out.next) return items;
      if (out.next === token) throw run.fail(new DiscoveryFailedError(`discovery stopped: ${what} answered the same NextToken twice`));
      token = out.next;
    }
  }

  /** One line an operator can act on: which call, and whether AWS refused or could not be reached. */
  private async call<T>(run: ReadRun, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof DiscoveryFailedError) throw err;
      const service = what.startsWith('sso:') ? 'IAM Identity Center' : 'AWS Organizations';
      const message = answeredByAws(err) ? `AWS refused ${what} (${describeAwsError(err)})` : `cannot reach ${service} (${what}: ${describeAwsError(err)})`;
      throw run.fail(new DiscoveryFailedError(`discovery failed: ${message}`, { cause: err }));
    }
  }
}
