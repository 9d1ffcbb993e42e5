// The denied set resolved against IAM's action list, and the guard's question "does this document
// grant a denied action?", checked case by case and against @cloud-copilot/iam-expand (AGPL,
// dev-only) as an independent expansion of wildcards and NotAction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandIamActions, invertIamActions } from '@cloud-copilot/iam-expand';
import { resolveDeniedActions, UnknownServiceError, type DeniedActionRules } from '../../../src/policy/actions.ts';
import type { PolicyDocument } from '../../../src/policy/document.ts';
import {
  DEFAULT_DENIED_ACTIONS,
  DEFAULT_DENIED_WRITE_SERVICES,
  deniedGrant,
  describeGrant,
  outsidePrefixes,
} from '../../../src/policy/guard.ts';

const DEFAULTS: DeniedActionRules = {
  deniedActions: DEFAULT_DENIED_ACTIONS,
  deniedWriteServices: DEFAULT_DENIED_WRITE_SERVICES,
  exemptActions: [],
};
const DENIED = await resolveDeniedActions(DEFAULTS);
const deniedNames = new Set(DENIED.map((d) => d.action.toLowerCase()));

const allowDoc = (action: string | string[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});
const notActionDoc = (notAction: string | string[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', NotAction: notAction, Resource: '*' }],
});

describe('resolveDeniedActions with the defaults', () => {
  it('puts deniedActions first, with the rule that named them', () => {
    assert.deepEqual(DENIED[0], { action: 'iam:PassRole', rule: 'deniedActions iam:PassRole' });
    assert.deepEqual(
      DENIED.filter((d) => d.action.startsWith('sts:')),
      [
        { action: 'sts:AssumeRole', rule: 'deniedActions sts:AssumeRole' },
        { action: 'sts:AssumeRoot', rule: 'deniedActions sts:AssumeRoot' },
      ],
    );
  });

  const denied = [
    'iam:CreateRole',
    'iam:AttachRolePolicy',
    'iam:PutRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:DeleteRolePermissionsBoundary',
    'iam:CreatePolicyVersion',
    'iam:CreateUser',
    'iam:CreateAccessKey',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:CreateServiceLinkedRole',
    'iam:CreateOpenIDConnectProvider',
    'organizations:LeaveOrganization',
    'organizations:CreateAccount',
    'account:PutAlternateContact',
    'account:CloseAccount',
  ];
  for (const action of denied) {
    it(`denies ${action}`, () => {
      const hit = DENIED.find((d) => d.action === action);
      assert.ok(hit, `${action} is not denied`);
      assert.match(hit.rule, /^deniedWriteServices (iam|organizations|account) \(.*(Write|Tagging|Permissions management).*\)$/);
    });
  }

  const kept = [
    'iam:GetRole',
    'iam:ListRoles',
    'iam:SimulatePrincipalPolicy',
    'organizations:DescribeOrganization',
    'account:GetAccountInformation',
    'sts:AssumeRoleWithWebIdentity',
    'sts:GetCallerIdentity',
    'sts:TagSession',
    's3:PutObject',
  ];
  for (const action of kept) {
    it(`keeps ${action} allowed`, () => assert.ok(!deniedNames.has(action.toLowerCase()), `${action} is denied`));
  }

  it('lists each action once', () => assert.equal(deniedNames.size, DENIED.length));

  it('denies well over a hundred real actions', () => assert.ok(DENIED.length > 150, `only ${DENIED.length}`));
});

describe('resolveDeniedActions: the knobs', () => {
  const resolve = (over: Partial<DeniedActionRules>) =>
    resolveDeniedActions({ deniedActions: [], deniedWriteServices: [], exemptActions: [], ...over });
  const names = async (over: Partial<DeniedActionRules>) => (await resolve(over)).map((d) => d.action);

  it('expands an action glob with IAM spelling, case-insensitively', async () => {
    assert.deepEqual(await names({ deniedActions: ['IAM:passrole'] }), ['iam:PassRole']);
    assert.deepEqual(await names({ deniedActions: ['iam:Pass*'] }), ['iam:PassRole']);
  });

  it('expands a ? and a wildcard service', async () => {
    assert.deepEqual(await names({ deniedActions: ['organization?:LeaveOrganization'] }), ['organizations:LeaveOrganization']);
  });

  it('keeps a literal action IAM does not list yet, as written', async () => {
    assert.deepEqual(await names({ deniedActions: ['iam:FutureEscalation'] }), ['iam:FutureEscalation']);
  });

  it('a glob that matches nothing adds nothing', async () => {
    assert.deepEqual(await names({ deniedActions: ['iam:Nothing*'] }), []);
  });

  it('exemptActions takes actions out again, by glob', async () => {
    const all = await names({ deniedWriteServices: ['iam'] });
    const exempt = await names({ deniedWriteServices: ['iam'], exemptActions: ['iam:*ServiceLinkedRole*'] });
    assert.ok(all.includes('iam:CreateServiceLinkedRole'));
    assert.ok(!exempt.includes('iam:CreateServiceLinkedRole'));
    assert.ok(!exempt.includes('iam:DeleteServiceLinkedRole'));
    assert.equal(all.length - exempt.length, all.filter((a) => /ServiceLinkedRole/i.test(a)).length);
  });

  it('an exempt action wins over deniedActions too', async () => {
    assert.deepEqual(await names({ deniedActions: ['iam:PassRole'], exemptActions: ['iam:passrole'] }), []);
  });

  it('refuses an unknown service in deniedWriteServices with a message', async () => {
    await assert.rejects(resolve({ deniedWriteServices: ['iamm'] }), (e: unknown) => {
      assert.ok(e instanceof UnknownServiceError);
      assert.match(e.message, /deniedWriteServices: IAM has no service prefix "iamm"/);
      return true;
    });
  });
});

describe('deniedGrant with the default denied set', () => {
  const refused: { action: string | string[]; want: string }[] = [
    { action: '*', want: 'iam:PassRole' },
    { action: 'iam:*', want: 'iam:PassRole' },
    { action: 'IAM:PASSROLE', want: 'iam:PassRole' },
    { action: 'iam:P*', want: 'iam:PassRole' },
    { action: 'iam:*Role', want: 'iam:PassRole' },
    { action: 'iam:Pass?ole', want: 'iam:PassRole' },
    { action: 'IAM:PutRolePolicy', want: 'iam:PutRolePolicy' },
    { action: 'iam:Pu?RolePolicy', want: 'iam:PutRolePolicy' },
    { action: 'iam:Crea?eRole', want: 'iam:CreateRole' },
    { action: 'iam:Tag*', want: 'iam:TagInstanceProfile' },
    { action: ['s3:GetObject', 'iam:CreateRole'], want: 'iam:CreateRole' },
    { action: 'sts:AssumeRole', want: 'sts:AssumeRole' },
    { action: 'sts:*', want: 'sts:AssumeRole' },
    { action: 'sts:Assume*', want: 'sts:AssumeRole' },
    { action: 'organizations:*', want: 'organizations:AcceptHandshake' },
    { action: 'account:Put*', want: 'account:PutAccountName' },
    { action: '*:LeaveOrganization', want: 'organizations:LeaveOrganization' },
  ];
  for (const tc of refused) {
    it(`refuses Allow ${JSON.stringify(tc.action)}, naming ${tc.want}`, () => {
      const grant = deniedGrant(allowDoc(tc.action), DENIED);
      assert.ok(grant, 'nothing denied was found');
      assert.equal(grant.action, tc.want);
      assert.equal(grant.statement, '0');
    });
  }

  const allowed = [
    'iam:GetRole',
    'iam:List*',
    'iam:Get*',
    'sts:AssumeRoleWithWebIdentity',
    'sts:GetCallerIdentity',
    's3:*',
    'ec2:*',
    'organizations:Describe*',
  ];
  for (const action of allowed) {
    it(`allows Allow ${action}`, () => assert.equal(deniedGrant(allowDoc(action), DENIED), undefined));
  }

  const docs: { name: string; doc: PolicyDocument; want: { statement: string; action: string } | undefined }[] = [
    { name: 'ignores Deny statements', doc: { Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] }, want: undefined },
    { name: 'ignores NotAction in a Deny', doc: { Statement: [{ Effect: 'Deny', NotAction: 's3:*', Resource: '*' }] }, want: undefined },
    { name: 'NotAction s3:* grants all of IAM', doc: notActionDoc('s3:*'), want: { statement: '0', action: 'iam:PassRole' } },
    { name: 'NotAction iam:* still grants sts:AssumeRole', doc: notActionDoc('iam:*'), want: { statement: '0', action: 'sts:AssumeRole' } },
    {
      name: 'NotAction leaving out every denied service and action grants nothing denied',
      doc: notActionDoc(['iam:*', 'organizations:*', 'account:*', 'sts:AssumeRole', 'sts:AssumeRoot']),
      want: undefined,
    },
    {
      name: 'NotAction in odd case is compared case-insensitively',
      doc: notActionDoc(['IAM:*', 'Organizations:*', 'ACCOUNT:*', 'sts:assumerole', 'STS:AssumeRoot']),
      want: undefined,
    },
    {
      name: 'NotAction that forgets one write action of IAM grants it',
      doc: notActionDoc(['iam:P*', 'iam:C*', 'iam:D*', 'organizations:*', 'account:*', 'sts:*']),
      want: { statement: '0', action: 'iam:AcceptDelegationRequest' },
    },
    {
      name: 'reads Statement as a single object',
      doc: { Statement: { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' } },
      want: { statement: '0', action: 'iam:PassRole' },
    },
    {
      name: 'names the statement by its Sid',
      doc: { Statement: [{ Sid: 'Escalate', Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }] },
      want: { statement: '"Escalate"', action: 'iam:PassRole' },
    },
    {
      name: 'names the position of the offending statement',
      doc: {
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
          { Effect: 'Deny', Action: '*', Resource: '*' },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
        ],
      },
      want: { statement: '2', action: 'sts:AssumeRole' },
    },
    {
      name: 'a condition or a narrow resource does not make a grant harmless',
      doc: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: 'arn:aws:iam::*:role/lambda-*',
            Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
          },
        ],
      },
      want: { statement: '0', action: 'iam:PassRole' },
    },
    { name: 'no Statement', doc: { Version: '2012-10-17' }, want: undefined },
    { name: 'empty Statement array', doc: { Statement: [] }, want: undefined },
    { name: 'Allow without Action', doc: { Statement: [{ Effect: 'Allow', Resource: '*' }] }, want: undefined },
    { name: 'non-string actions are ignored', doc: allowDoc([7, null, 's3:GetObject'] as unknown as string[]), want: undefined },
    {
      name: 'skips non-object statements',
      doc: { Statement: [null, 'x', { Effect: 'Allow', Action: 'iam:*', Resource: '*' }] },
      want: { statement: '2', action: 'iam:PassRole' },
    },
  ];
  for (const tc of docs) {
    it(tc.name, () => {
      const grant = deniedGrant(tc.doc, DENIED);
      assert.deepEqual(grant && { statement: grant.statement, action: grant.action }, tc.want);
    });
  }

  it('describes a grant with the rule that denies it', () => {
    const grant = deniedGrant(allowDoc('iam:Create*'), DENIED);
    assert.ok(grant);
    assert.match(
      describeGrant(grant),
      /^statement 0 grants iam:CreateAccessKey, which the operator's policy denies \(deniedWriteServices iam \(Write\)\)$/,
    );
  });

  it('with nothing denied allows everything', () => assert.equal(deniedGrant(allowDoc('*'), []), undefined));
});

describe('deniedGrant agrees with iam-expand', () => {
  // Patterns as tenants write them. The service prefix takes no wildcard in iam-expand; the guard
  // reads `*` and `?` there too (stricter: `*:PassRole` is refused), so those are tested above.
  const statements: { Action?: string[]; NotAction?: string[] }[] = [
    ...[
      'iam:*',
      'iam:Get*',
      'iam:List*',
      'iam:*Policy',
      'iam:*Role*',
      'iam:Pass*',
      'iam:Tag*',
      'iam:Untag*',
      'iam:Simulate*',
      'iam:*Boundary',
      'iam:*OpenIDConnect*',
      'iam:*ServiceLinked*',
      'iam:Generate*',
      'iam:?et*',
      'IAM:pass?ole',
      'iam:Upload*',
      'iam:Create*',
      'iam:Delete*',
      'iam:Attach*',
      'iam:Put*',
      'sts:*',
      'sts:Assume*',
      'sts:Get*',
      'sts:AssumeRoleWith*',
      'sts:Tag*',
      'organizations:*',
      'organizations:Describe*',
      'organizations:List*',
      'organizations:Leave*',
      'account:*',
      'account:Get*',
      'account:Put*',
      's3:*',
      's3:Get*',
      'ec2:*',
      'lambda:*',
      'kms:*',
      'secretsmanager:Get*',
      'dynamodb:*',
      'sqs:*',
    ].map((a) => ({ Action: [a] })),
    { Action: ['s3:GetObject', 'iam:GetRole'] },
    { Action: ['iam:GetRole', 'iam:UpdateRole'] },
    { Action: ['sts:GetCallerIdentity', 'sts:AssumeRoleWithWebIdentity'] },
    { NotAction: ['iam:*'] },
    { NotAction: ['s3:*'] },
    { NotAction: ['iam:*', 'organizations:*', 'account:*'] },
    { NotAction: ['iam:*', 'organizations:*', 'account:*', 'sts:*'] },
    { NotAction: ['iam:*', 'organizations:*', 'account:*', 'sts:AssumeRole', 'sts:AssumeRoot'] },
    { NotAction: ['iam:Get*', 'iam:List*', 'organizations:*', 'account:*', 'sts:*'] },
    { NotAction: ['iam:Pass*', 'iam:Create*', 'iam:Delete*', 'organizations:*', 'account:*', 'sts:*'] },
    { NotAction: ['iam:*', 'organizations:*', 'account:Put*', 'account:Delete*', 'sts:*'] },
    { NotAction: ['iam:*', 'organizations:*', 'account:*', 'sts:Assume*'] },
  ];

  /** The denied actions the statement grants, by iam-expand's reading of IAM's list. */
  async function oracle(st: { Action?: string[]; NotAction?: string[] }): Promise<string[]> {
    const granted = st.Action ? await expandIamActions(st.Action, { expandAsterisk: true }) : await invertIamActions(st.NotAction ?? []);
    return granted.filter((a) => deniedNames.has(a.toLowerCase()));
  }

  it('covers at least 50 statements', () => assert.ok(statements.length >= 50, `${statements.length}`));

  for (const st of statements) {
    it(JSON.stringify(st), async () => {
      const expected = await oracle(st);
      const grant = deniedGrant({ Statement: [{ Effect: 'Allow', Resource: '*', ...st }] }, DENIED);
      assert.equal(
        grant !== undefined,
        expected.length > 0,
        `guard: ${grant?.action ?? 'nothing'}, iam-expand: ${expected.join(' ') || 'nothing'}`,
      );
      if (grant)
        assert.ok(expected.map((a) => a.toLowerCase()).includes(grant.action.toLowerCase()), `${grant.action} not granted per iam-expand`);
    });
  }
});

describe('outsidePrefixes', () => {
  const cases: { name: string; doc: PolicyDocument; prefixes: string[]; want: RegExp | undefined }[] = [
    { name: 'an allowed prefix passes', doc: allowDoc('s3:GetObject'), prefixes: ['s3:'], want: undefined },
    { name: 'one of several prefixes passes', doc: allowDoc('sqs:SendMessage'), prefixes: ['s3:', 'sqs:'], want: undefined },
    {
      name: 'another service is refused',
      doc: allowDoc('dynamodb:GetItem'),
      prefixes: ['s3:'],
      want: /^statement 0 allows dynamodb:GetItem; inline policies may only use s3:$/,
    },
    { name: 'lists every prefix', doc: allowDoc('ec2:RunInstances'), prefixes: ['s3:', 'sqs:'], want: /may only use s3:, sqs:$/ },
    { name: 'case-insensitive action', doc: allowDoc('S3:GetObject'), prefixes: ['s3:'], want: undefined },
    { name: 'case-insensitive prefix', doc: allowDoc('s3:GetObject'), prefixes: ['S3:'], want: undefined },
    {
      name: 'second array element',
      doc: allowDoc(['s3:GetObject', 'ec2:DescribeInstances']),
      prefixes: ['s3:'],
      want: /allows ec2:DescribeInstances;/,
    },
    { name: 'NotAction steps outside every prefix', doc: notActionDoc('s3:*'), prefixes: ['s3:'], want: /^statement 0 uses NotAction/ },
    {
      name: 'Deny statements are not judged',
      doc: { Statement: [{ Effect: 'Deny', Action: 'ec2:*', Resource: '*' }] },
      prefixes: ['s3:'],
      want: undefined,
    },
    { name: 'empty list allows any service', doc: allowDoc('dynamodb:GetItem'), prefixes: [], want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const why = outsidePrefixes(tc.doc, tc.prefixes);
      if (tc.want === undefined) assert.equal(why, undefined);
      else assert.match(why ?? '', tc.want);
    });
  }
});
