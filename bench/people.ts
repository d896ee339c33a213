/**
 * Who sends the benchmark's requests: every request (and every click) comes from a person the
 * Slack stand-in and Identity Center have never seen before, so no profile cache flatters it.
 */
import type { AwsStandIn } from '../test/support/aws-stand-in';
import type { SlackStandIn } from '../test/support/slack-stand-in';
import { IDENTITY_STORE_ID, testConfigYaml } from '../test/support/timebox-harness';

export interface BenchUser {
  id: string;
  name: string;
  email: string;
  /** Their Identity Center user id (shaped like a real one). */
  principalId: string;
}

/** The n-th person of a series: `kind` is one letter (R requesters, A approvers, …). */
export function benchUser(kind: string, n: number): BenchUser {
  const num = String(n).padStart(7, '0');
  const hex = n.toString(16).padStart(8, '0');
  const kindHex = kind.charCodeAt(0).toString(16).padStart(2, '0');
  return {
    id: `UB${kind}${num}`,
    name: `bench-${kind.toLowerCase()}${num}`,
    email: `bench-${kind.toLowerCase()}${num}@bench.example.com`,
    principalId: `bec0000${kindHex}0-${hex}-0000-4000-8000-000000000000`,
  };
}

/** Registers `user` with the stand-ins, as a workspace member with an Identity Center user. */
export function register(user: BenchUser, slack: SlackStandIn, aws: AwsStandIn): BenchUser {
  slack.addUser({ id: user.id, name: user.name, email: user.email });
  aws.addUser({ userId: user.principalId, email: user.email, identityStoreId: IDENTITY_STORE_ID });
  return user;
}

/** Mints new people into one pair of stand-ins; numbers are never reused within a run, whichever stand-ins. */
export class People {
  private static readonly counters = new Map<string, number>();
  constructor(
    private readonly kind: string,
    private readonly slack: SlackStandIn,
    private readonly aws: AwsStandIn,
  ) {}

  mint(): BenchUser {
    const n = People.counters.get(this.kind) ?? 0;
    People.counters.set(this.kind, n + 1);
    return register(benchUser(this.kind, n), this.slack, this.aws);
  }
}

/**
 * A fixed pool of approvers (a config is static, so the rule must list them), each used for one
 * click only. Registered with every pair of stand-ins that uses them.
 */
export class ApproverPool {
  private used = 0;
  readonly all: BenchUser[];
  constructor(size: number) {
    this.all = Array.from({ length: size }, (_, i) => benchUser('A', i));
  }

  registerWith(slack: SlackStandIn, aws: AwsStandIn): void {
    for (const a of this.all) register(a, slack, aws);
  }

  take(): BenchUser {
    const next = this.all[this.used++];
    if (!next) throw new Error(`the approver pool (${this.all.length}) is used up`);
    return next;
  }
}

/** Requests that need approval: production Admin, under a rule whose approvers are the pool. */
export const APPROVAL_TEXT = (n: number, duration = '1h') => `production Admin ${duration} bench approval ${n}`;
/** Requests an autoApprove rule grants at once (staging-readonly in the test config). */
export const AUTO_TEXT = (n: number, duration = '1h') => `staging ReadOnly ${duration} bench auto ${n}`;

/** The test workspace's config, with a first rule for production Admin whose approvers are the pool. */
export function benchConfigYaml(approvers: BenchUser[]): string {
  return testConfigYaml(`
  - name: bench-approval
    accounts: [production]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [${approvers.map((a) => a.email).join(', ')}]
    maxDuration: 8h`);
}
