// config/iam/operator-policy.json proven by simulation (@cloud-copilot/iam-simulate, an AGPL-3.0
// IAM policy simulator used here only, never by src/):
// - the AWS calls are read from src/ (aws-calls.ts), not listed by hand;
// - every request the operator's own code sends for them (flows.ts: start-up, create, repair,
//   attachRoleARN, delete, over FakeAws) is Allowed, with its real resource ARN, request tags,
//   boundary and the role's own tags;
// - every escalation below is denied, explicitly or implicitly;
// - the policy grants no action the code does not call, and each of its statements decides a case.
// Ends with one line:
//   operator-policy: calls_allowed=<calls allowed>/<calls found in src/> escalations_denied=<m>/<m>
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { roleArn } from '../../../src/policy/arn.ts';
import { ownerTags } from '../../../src/policy/desired.ts';
import { providerTags } from '../../../src/policy/provider.ts';
import { awsCallsIn } from './aws-calls.ts';
import { FakeAws, type FakeRole, type SentRequest } from './fake-aws.ts';
import {
  ACCOUNT,
  BOUNDARY,
  CLUSTER,
  desiredRole,
  EXTERNAL_ID,
  FLOWS,
  ISSUER_HOST_PATH,
  OPERATOR_PRINCIPAL,
  operator,
  OWNED_TAGS,
  PARTITION,
  record,
  REFUSED_FLOWS,
  REGION,
  roleAsCreated,
  S3_READER,
  TARGET_ACCOUNT,
  TARGET_ROLE,
  TARGET_TRUST,
  type Flow,
} from './flows.ts';
import {
  describeRequest,
  loadOperatorPolicy,
  requestTagContext,
  roleRequest,
  simulate,
  type Context,
  type RoleFacts,
  type SimRequest,
  type Verdict,
} from './simulate.ts';

const PLACEHOLDERS = {
  partition: PARTITION,
  account: ACCOUNT,
  region: REGION,
  cluster: CLUSTER,
  issuer: ISSUER_HOST_PATH,
  targetAccount: TARGET_ACCOUNT,
};
const POLICY = loadOperatorPolicy(PLACEHOLDERS);
const CALLS = awsCallsIn(fileURLToPath(new URL('../../../src', import.meta.url)));

interface Recorded {
  flow: string;
  request: SentRequest;
}

async function recordAll(flows: readonly Flow[]): Promise<Recorded[]> {
  const all: Recorded[] = [];
  for (const flow of flows) for (const request of await record(flow)) all.push({ flow: flow.name, request });
  return all;
}

const SENT = await recordAll(FLOWS);
const isWrite = (r: Recorded) => !/:(Get|List)/.test(r.request.action);
const REFUSED_WRITES = (await recordAll(REFUSED_FLOWS)).filter(isWrite);

// ---- The roles escalations aim at -------------------------------------------------------------

const iamArn = (resource: string) => `arn:${PARTITION}:iam::${ACCOUNT}:${resource}`;
const ADMIN = `arn:${PARTITION}:iam::aws:policy/AdministratorAccess`;
const facts = (r: FakeRole): RoleFacts => ({ arn: roleArn(PARTITION, ACCOUNT, r.path, r.name), tags: r.tags, boundary: r.boundary });

/** The role the operator created for S3_READER. */
const OWNED = facts(roleAsCreated(desiredRole(S3_READER)));
/** Another team's role under the same path, without ownership tags. */
const UNTAGGED = { arn: iamArn('role/irsa/made-by-another-team'), tags: {} };
/** A role the operator of another cluster owns. */
const OTHER_CLUSTER = { arn: iamArn('role/irsa/irsa-staging-team-a-app'), tags: ownerTags('staging', 'team-a', 'app'), boundary: BOUNDARY };
/** A role outside the path carrying this cluster's tags (anyone allowed to tag roles could forge them). */
const OUTSIDE_PATH = { arn: iamArn('role/admin'), tags: OWNED_TAGS };

/** CreateRole as IAM sees it: the new role's ARN, the tags and the boundary in the request. */
function createRole(resource: string, sent: { tags?: Record<string, string>; boundary?: string }): SimRequest {
  const context: Context = {
    ...(sent.tags ? requestTagContext(sent.tags) : {}),
    ...(sent.boundary ? { 'iam:PermissionsBoundary': sent.boundary } : {}),
  };
  return { action: 'iam:CreateRole', resource, context };
}

const CREATE_AT = iamArn('role/irsa/new-role');
const escalate = (what: string, request: SimRequest) => ({ what, request });

/** What a compromised operator (or a bug) could try; every one must be denied. */
const ESCALATIONS = [
  // Creating roles: only under /irsa/, with the boundary and this cluster's ownership tags.
  escalate('CreateRole without a boundary', createRole(CREATE_AT, { tags: OWNED_TAGS })),
  escalate('CreateRole with AdministratorAccess as the boundary', createRole(CREATE_AT, { tags: OWNED_TAGS, boundary: ADMIN })),
  escalate('CreateRole at the root path', createRole(iamArn('role/admin'), { tags: OWNED_TAGS, boundary: BOUNDARY })),
  escalate(
    'CreateRole under /irsa-admin/ (only starts like /irsa/)',
    createRole(iamArn('role/irsa-admin/x'), { tags: OWNED_TAGS, boundary: BOUNDARY }),
  ),
  escalate('CreateRole without the ownership tags', createRole(CREATE_AT, { tags: { team: 'a' }, boundary: BOUNDARY })),
  escalate(
    'CreateRole tagged for another cluster',
    createRole(CREATE_AT, { tags: ownerTags('staging', 'team-a', 'x'), boundary: BOUNDARY }),
  ),
  escalate(
    'CreateRole tagged as managed by someone else',
    createRole(CREATE_AT, { tags: { ...OWNED_TAGS, 'irsa.dev/managed-by': 'someone-else' }, boundary: BOUNDARY }),
  ),
  // Changing roles it does not own.
  escalate('UpdateAssumeRolePolicy of an untagged role under /irsa/', roleRequest('iam:UpdateAssumeRolePolicy', UNTAGGED)),
  escalate("UpdateAssumeRolePolicy of another cluster's role", roleRequest('iam:UpdateAssumeRolePolicy', OTHER_CLUSTER)),
  escalate('UpdateAssumeRolePolicy of a role outside /irsa/ with forged tags', roleRequest('iam:UpdateAssumeRolePolicy', OUTSIDE_PATH)),
  escalate('AttachRolePolicy to an untagged role under /irsa/', roleRequest('iam:AttachRolePolicy', UNTAGGED, { 'iam:PolicyARN': ADMIN })),
  escalate(
    'AttachRolePolicy to a role outside /irsa/ with forged tags',
    roleRequest('iam:AttachRolePolicy', OUTSIDE_PATH, { 'iam:PolicyARN': ADMIN }),
  ),
  escalate('PutRolePolicy on an untagged role under /irsa/', roleRequest('iam:PutRolePolicy', UNTAGGED)),
  escalate("PutRolePolicy on another cluster's role", roleRequest('iam:PutRolePolicy', OTHER_CLUSTER)),
  escalate("UpdateRole of another cluster's role", roleRequest('iam:UpdateRole', OTHER_CLUSTER)),
  escalate("DeleteRole of another cluster's role", roleRequest('iam:DeleteRole', OTHER_CLUSTER)),
  escalate('DeleteRole of an untagged role under /irsa/', roleRequest('iam:DeleteRole', UNTAGGED)),
  escalate('DeleteRole of a role outside /irsa/ with forged tags', roleRequest('iam:DeleteRole', OUTSIDE_PATH)),
  // The boundary stays.
  escalate('DeleteRolePermissionsBoundary of its own role', roleRequest('iam:DeleteRolePermissionsBoundary', OWNED)),
  escalate(
    'PutRolePermissionsBoundary of AdministratorAccess on its own role',
    roleRequest('iam:PutRolePermissionsBoundary', OWNED, { 'iam:PermissionsBoundary': ADMIN }),
  ),
  escalate(
    "PutRolePermissionsBoundary on another cluster's role",
    roleRequest('iam:PutRolePermissionsBoundary', OTHER_CLUSTER, { 'iam:PermissionsBoundary': BOUNDARY }),
  ),
  // The ownership tags are written once, at creation.
  escalate('TagRole adopting an untagged role', roleRequest('iam:TagRole', UNTAGGED, requestTagContext(OWNED_TAGS))),
  escalate(
    'TagRole handing its own role to another cluster',
    roleRequest('iam:TagRole', OWNED, requestTagContext({ 'irsa.dev/cluster': 'staging' })),
  ),
  escalate(
    "TagRole claiming another cluster's role",
    roleRequest('iam:TagRole', OTHER_CLUSTER, requestTagContext({ 'irsa.dev/cluster': CLUSTER })),
  ),
  escalate(
    'UntagRole irsa.dev/managed-by (disowning its role)',
    roleRequest('iam:UntagRole', OWNED, { 'aws:TagKeys': ['irsa.dev/managed-by'] }),
  ),
  escalate('UntagRole irsa.dev/cluster', roleRequest('iam:UntagRole', OWNED, { 'aws:TagKeys': ['irsa.dev/cluster'] })),
  // Nothing beyond roles.
  escalate('iam:PassRole of its own role', roleRequest('iam:PassRole', OWNED, { 'iam:PassedToService': 'ec2.amazonaws.com' })),
  escalate('sts:AssumeRole of its own role', roleRequest('sts:AssumeRole', OWNED)),
  escalate('sts:AssumeRole of another role of the target account', {
    action: 'sts:AssumeRole',
    resource: `arn:${PARTITION}:iam::${TARGET_ACCOUNT}:role/admin`,
    context: { 'sts:ExternalId': EXTERNAL_ID },
  }),
  escalate('sts:AssumeRole of irsa-operator-target in an account not configured', {
    action: 'sts:AssumeRole',
    resource: `arn:${PARTITION}:iam::999988887777:role/irsa-operator-target`,
    context: { 'sts:ExternalId': EXTERNAL_ID },
  }),
  escalate("sts:AssumeRole of the target account's role without the external ID (its trust refuses)", {
    action: 'sts:AssumeRole',
    resource: TARGET_ROLE,
    context: {},
    resourcePolicy: TARGET_TRUST,
  }),
  // EKS Pod Identity: only its own associations, only its own roles passed, only to pods.eks.
  escalate(
    'iam:PassRole of an untagged role to Pod Identity',
    roleRequest('iam:PassRole', UNTAGGED, { 'iam:PassedToService': 'pods.eks.amazonaws.com' }),
  ),
  escalate(
    'iam:PassRole of a role outside the path to Pod Identity',
    roleRequest('iam:PassRole', OUTSIDE_PATH, { 'iam:PassedToService': 'pods.eks.amazonaws.com' }),
  ),
  escalate('CreatePodIdentityAssociation without the ownership tags', {
    action: 'eks:CreatePodIdentityAssociation',
    resource: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`,
    context: requestTagContext({ team: 'a' }),
  }),
  escalate('CreatePodIdentityAssociation in another cluster', {
    action: 'eks:CreatePodIdentityAssociation',
    resource: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:cluster/staging`,
    context: requestTagContext(OWNED_TAGS),
  }),
  escalate('DeletePodIdentityAssociation of an association another team made', {
    action: 'eks:DeletePodIdentityAssociation',
    resource: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:podidentityassociation/${CLUSTER}/a-0000000000000abcd`,
    context: {},
  }),
  escalate('UpdatePodIdentityAssociation of another cluster', {
    action: 'eks:UpdatePodIdentityAssociation',
    resource: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:podidentityassociation/staging/a-0000000000000abcd`,
    context: { 'aws:ResourceTag/irsa.dev/managed-by': 'irsa-operator', 'aws:ResourceTag/irsa.dev/cluster': 'staging' },
  }),
  escalate('CreatePolicyVersion of the boundary', { action: 'iam:CreatePolicyVersion', resource: BOUNDARY, context: {} }),
  escalate('SetDefaultPolicyVersion of the boundary', { action: 'iam:SetDefaultPolicyVersion', resource: BOUNDARY, context: {} }),
  escalate('CreatePolicy', { action: 'iam:CreatePolicy', resource: iamArn('policy/escalate'), context: {} }),
  escalate('CreateUser', { action: 'iam:CreateUser', resource: iamArn('user/escalate'), context: {} }),
  escalate('AttachUserPolicy', { action: 'iam:AttachUserPolicy', resource: iamArn('user/escalate'), context: { 'iam:PolicyARN': ADMIN } }),
  escalate('CreateAccessKey', { action: 'iam:CreateAccessKey', resource: iamArn('user/escalate'), context: {} }),
  escalate('eks:DescribeCluster of another cluster', {
    action: 'eks:DescribeCluster',
    resource: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:cluster/staging`,
    context: {},
  }),
  escalate('CreateOpenIDConnectProvider', {
    action: 'iam:CreateOpenIDConnectProvider',
    resource: iamArn('oidc-provider/attacker.example.com'),
    context: {},
  }),
  escalate("CreateOpenIDConnectProvider of the cluster's issuer without the ownership tags", {
    action: 'iam:CreateOpenIDConnectProvider',
    resource: iamArn(`oidc-provider/${ISSUER_HOST_PATH}`),
    context: requestTagContext({ team: 'a' }),
  }),
  escalate("CreateOpenIDConnectProvider of another issuer tagged as this cluster's", {
    action: 'iam:CreateOpenIDConnectProvider',
    resource: iamArn('oidc-provider/attacker.example.com'),
    context: requestTagContext(providerTags(CLUSTER)),
  }),
  escalate('AddClientIDToOpenIDConnectProvider of a provider someone else made', {
    action: 'iam:AddClientIDToOpenIDConnectProvider',
    resource: iamArn(`oidc-provider/${ISSUER_HOST_PATH}`),
    context: {},
  }),
  escalate('UpdateOpenIDConnectProviderThumbprint of a provider someone else made', {
    action: 'iam:UpdateOpenIDConnectProviderThumbprint',
    resource: iamArn(`oidc-provider/${ISSUER_HOST_PATH}`),
    context: {},
  }),
  escalate("UpdateOpenIDConnectProviderThumbprint of another cluster's provider", {
    action: 'iam:UpdateOpenIDConnectProviderThumbprint',
    resource: iamArn('oidc-provider/oidc.staging.example.com'),
    context: Object.fromEntries(Object.entries(providerTags('staging')).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
  }),
  escalate('DeleteOpenIDConnectProvider of its own provider', {
    action: 'iam:DeleteOpenIDConnectProvider',
    resource: iamArn(`oidc-provider/${ISSUER_HOST_PATH}`),
    context: Object.fromEntries(Object.entries(providerTags(CLUSTER)).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
  }),
  // What the operator's own code sends outside the policy's configuration (flows.ts, REFUSED_FLOWS).
  ...REFUSED_WRITES.map((r) => escalate(`${r.flow}: ${r.request.command}`, r.request)),
];

// ---- Simulation, once per distinct request ---------------------------------------------------

const verdicts = new Map<string, Promise<Verdict>>();
function verdict(req: SimRequest): Promise<Verdict> {
  const key = JSON.stringify(req);
  let v = verdicts.get(key);
  if (!v) verdicts.set(key, (v = simulate(POLICY, OPERATOR_PRINCIPAL, req)));
  return v;
}

async function assertAllowed(r: Recorded): Promise<Verdict> {
  const v = await verdict(r.request);
  assert.deepEqual(v.ignoredKeys, [], `${r.flow}: context keys that do not apply to ${r.request.action}`);
  assert.equal(
    v.result,
    'Allowed',
    `${r.flow}: ${describeRequest(r.request)} is ${v.result} (denied by ${v.deniedBy.join(', ') || 'nothing'})`,
  );
  return v;
}

const sentFor = (action: string) => SENT.filter((r) => r.request.action === action);
const grantedActions = () =>
  POLICY.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

const tally = { callsAllowed: 0, escalationsDenied: 0 };

describe('config/iam/operator-policy.json, simulated', () => {
  after(() => {
    console.log(
      `operator-policy: calls_allowed=${tally.callsAllowed}/${CALLS.length} escalations_denied=${tally.escalationsDenied}/${ESCALATIONS.length}`,
    );
  });

  it('finds the AWS calls in src/, and every call the flows send is among them', () => {
    assert.ok(CALLS.length >= 20, `only ${CALLS.length} calls found in src/: is the scan still reading the AWS layer?`);
    const found = new Set(CALLS.map((c) => c.action));
    const unknown = [...new Set(SENT.map((r) => r.request.action))].filter((a) => !found.has(a));
    assert.deepEqual(unknown, [], 'the code sent calls the scan of src/ did not find');
  });

  for (const call of CALLS) {
    it(`${call.action} (${call.files.join(', ')}): allowed as the code sends it`, async () => {
      const requests = sentFor(call.action);
      assert.ok(requests.length > 0, `${call.action} has no scenario: no flow in test/unit/iam/flows.ts makes the code send it; add one`);
      for (const r of requests) await assertAllowed(r);
      tally.callsAllowed++;
    });
  }

  it('has at least 20 escalations', () => {
    assert.ok(ESCALATIONS.length >= 20, `${ESCALATIONS.length} escalations`);
  });

  for (const { what, request } of ESCALATIONS) {
    it(`denies ${what}`, async () => {
      const v = await verdict(request);
      assert.deepEqual(v.ignoredKeys, [], `context keys that do not apply to ${request.action}`);
      assert.notEqual(v.result, 'Allowed', `${describeRequest(request)} is allowed by ${v.allowedBy.join(', ')}`);
      tally.escalationsDenied++;
    });
  }

  it('grants no action the code does not call', () => {
    const called = new Set(CALLS.map((c) => c.action.toLowerCase()));
    assert.deepEqual(
      grantedActions().filter((a) => !called.has(a.toLowerCase())),
      [],
    );
  });

  it('has no statement that decides nothing: each Allow grants a sent request, each Deny refuses an escalation', async () => {
    const used = new Set<string>();
    for (const r of SENT) for (const sid of (await verdict(r.request)).allowedBy) used.add(sid);
    for (const e of ESCALATIONS) for (const sid of (await verdict(e.request)).deniedBy) used.add(sid);
    const unused = POLICY.Statement.map((s) => s.Sid ?? '(no Sid)').filter((sid) => !used.has(sid));
    assert.deepEqual(unused, []);
  });

  it("config/iam/target-account-policy.json is the operator policy's IAM statements: proven by the same simulation", () => {
    const target = JSON.parse(readFileSync(new URL('../../../config/iam/target-account-policy.json', import.meta.url), 'utf8')) as {
      Statement: { Sid?: string }[];
    };
    const template = JSON.parse(readFileSync(new URL('../../../config/iam/operator-policy.json', import.meta.url), 'utf8')) as {
      Statement: { Sid?: string }[];
    };
    // The cluster, its Pod Identity associations and the roles EKS is passed are the own account's only.
    const ownAccountOnly = new Set([
      'ReadTheClusterIssuer',
      'ReadThePodIdentityAssociationsOfThisCluster',
      'CreatePodIdentityAssociationsOnlyWithTheOwnershipTag',
      'ChangeOnlyPodIdentityAssociationsThisOperatorOwns',
      'PassOnlyItsOwnRolesAndOnlyToPodIdentity',
      'AssumeTheConfiguredAccountRoles',
    ]);
    assert.deepEqual(
      target.Statement,
      template.Statement.filter((s) => !ownAccountOnly.has(s.Sid ?? '')),
    );
  });

  it('never removes a boundary: whatever boundary the role has, the forced one is put on', async () => {
    for (const boundary of [undefined, BOUNDARY, iamArn('policy/another-boundary')]) {
      const sent = await record({
        name: `role with boundary ${boundary ?? 'none'}`,
        roles: () => [{ ...roleAsCreated(desiredRole(S3_READER)), boundary }],
        run: (aws: FakeAws) => operator(aws).sync({ ...S3_READER, status: { roleName: desiredRole(S3_READER).name } }),
      });
      const ops = sent.map((r) => r.command);
      assert.ok(!ops.includes('DeleteRolePermissionsBoundary'), `boundary ${boundary ?? 'none'}: ${ops.join(', ')}`);
      if (boundary !== BOUNDARY) assert.ok(ops.includes('PutRolePermissionsBoundary'), `boundary ${boundary ?? 'none'} is replaced`);
    }
  });
});
