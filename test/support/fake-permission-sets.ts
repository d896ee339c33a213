import type { PermissionSetPolicies, ProvisionOutcome } from '../../src/app/ports';

/** Permission set inline policies in memory: what was put is what is read; provisioning records the policy it pushed. */
export class FakePermissionSets implements PermissionSetPolicies {
  readonly policies = new Map<string, string>();
  readonly provisioned = new Map<string, string | undefined>();
  sessionDurations = new Map<string, number>();
  /** Reasons the next provisionings fail with, in order. */
  readonly provisionFailures: string[] = [];

  async sessionDurationMs(permissionSetArn: string): Promise<number> {
    return this.sessionDurations.get(permissionSetArn) ?? 3_600_000;
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string | undefined> {
    // The answer travels back: another caller's work may run between this read and the write that follows.
    const policy = this.policies.get(permissionSetArn);
    await new Promise((resolve) => setImmediate(resolve));
    return policy;
  }

  async putInlinePolicy(permissionSetArn: string, policy: string): Promise<void> {
    this.policies.set(permissionSetArn, policy);
  }

  async provision(permissionSetArn: string): Promise<ProvisionOutcome> {
    const reason = this.provisionFailures.shift();
    if (reason !== undefined) return { ok: false, reason };
    this.provisioned.set(permissionSetArn, this.policies.get(permissionSetArn));
    return { ok: true };
  }

  /** No queue of its own: like two Lambda containers, each with its own process, only the store can keep callers apart. */
  async exclusive<T>(_permissionSetArn: string, work: () => Promise<T>): Promise<T> {
    return work();
  }
}
