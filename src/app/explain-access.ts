import { evaluate } from '../domain/evaluate';
import { explainAvailable, explainWhoCan, explainWhy, type Explanation } from '../domain/explain';
import { TimeboxError } from '../domain/errors';
import { resolveTargets, ruleCovers, type TargetSpec } from '../domain/rules';
import type { GrantTarget } from '../domain/grant-target';
import type { Identity } from '../domain/identity';
import type { Person } from '../domain/policy';
import { lookUpMember } from './members';
import { resolveIdentity } from './resolve-identity';
import type { WorkflowDeps } from './deps';

type Deps = Pick<WorkflowDeps, 'policy' | 'directory' | 'provisioner' | 'logger'>;

/** Who is asking, in the workspace Timebox is installed in (members only, as for a request). */
export interface Asker {
  slackUserId: string;
  workspace?: string;
}

/** The one target `whocan` and `why` are about. */
function oneTarget(deps: Deps, spec: TargetSpec): GrantTarget {
  const targets = resolveTargets(deps.policy, spec);
  if (targets.length !== 1) throw new TimeboxError('invalid_command', 'Name one account and one permission set, or one group.');
  return targets[0]!;
}

/** `whocan`: the rules that cover a target. Nothing about the asker is looked up but their membership of the workspace. */
export async function whoCan(deps: Deps, asker: Asker, spec: TargetSpec): Promise<Explanation> {
  await lookUpMember(deps, asker.slackUserId, asker.workspace, 'request');
  return explainWhoCan(deps.policy, oneTarget(deps, spec));
}

/**
 * `why`: the asker resolved exactly as filing resolves them (the groups named by the rules that
 * cover the target), then the same evaluation filing makes.
 */
export async function whyFor(deps: Deps, asker: Asker, spec: TargetSpec): Promise<Explanation> {
  const member = await lookUpMember(deps, asker.slackUserId, asker.workspace, 'request');
  const target = oneTarget(deps, spec);
  const snapshot = deps.policy.catalogue.current();
  const person = await resolveIdentity(deps, member, deps.policy.rules.filter((r) => ruleCovers(r, target, snapshot)).map((r) => r.requesters));
  return explainWhy(evaluate(deps.policy, person, target), member.email ?? member.name ?? member.slackUserId);
}

/** Who someone is against every group the rules name as requesters: what `available` and the form's menus order by. */
export function identityForEveryRule(deps: Pick<WorkflowDeps, 'policy' | 'directory' | 'provisioner' | 'logger'>, member: Person): Promise<Identity> {
  return resolveIdentity(deps, member, deps.policy.rules.map((r) => r.requesters));
}

/** `available`: every target, evaluated for the asker (resolved once, against every group the rules name as requesters). */
export async function availableTo(deps: Deps, asker: Asker): Promise<Explanation> {
  const member = await lookUpMember(deps, asker.slackUserId, asker.workspace, 'request');
  return explainAvailable(deps.policy, await identityForEveryRule(deps, member));
}
