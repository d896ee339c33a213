/**
 * What one grant gives a person: an account assignment (account × permission set) or a
 * membership of an Identity Center group. Names travel with the ids so messages and the audit
 * trail read well even after the config renames something.
 */
export type GrantTarget = AccountTarget | GroupTarget;

export interface AccountTarget {
  kind: 'account';
  accountId: string;
  accountName: string;
  permissionSetName: string;
  permissionSetArn: string;
}

export interface GroupTarget {
  kind: 'group';
  groupId: string;
  groupName: string;
}

/** A target for one Identity Center user: what the provisioner creates and removes. */
export type ProvisionTarget =
  | { kind: 'account'; principalId: string; accountId: string; permissionSetArn: string }
  | { kind: 'group'; principalId: string; groupId: string };

export function provisionTarget(target: GrantTarget, principalId: string): ProvisionTarget {
  return target.kind === 'account'
    ? { kind: 'account', principalId, accountId: target.accountId, permissionSetArn: target.permissionSetArn }
    : { kind: 'group', principalId, groupId: target.groupId };
}

/** One key per (user, target): the lease that every Timebox grant of it shares. */
export function targetKey(target: ProvisionTarget): string {
  return target.kind === 'account'
    ? `${target.principalId}|${target.accountId}|${target.permissionSetArn}`
    : `${target.principalId}|group|${target.groupId}`;
}

/** "ReadOnly on staging (111111111111)" or "group oncall". */
export function describeTarget(target: GrantTarget): string {
  return target.kind === 'account' ? `${target.permissionSetName} on ${target.accountName} (${target.accountId})` : `group ${target.groupName}`;
}
