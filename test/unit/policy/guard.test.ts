import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SpecProblem } from '../../../src/api/validate.ts';
import type { PolicyDocument } from '../../../src/policy/document.ts';
import { wellKnownPolicyName, type DesiredRole } from '../../../src/policy/desired.ts';
import { resolveDeniedActions, type DeniedAction } from '../../../src/policy/actions.ts';
import {
  checkOperatorPolicy,
  DEFAULT_DENIED_ACTIONS,
  DEFAULT_DENIED_POLICY_ARNS,
  DEFAULT_DENIED_WRITE_SERVICES,
  NAMESPACE_ALLOWED_POLICIES_ANNOTATION,
  type GuardInput,
  type OperatorPolicy,
  NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION,
} from '../../../src/policy/guard.ts';
import type { TrustSubject } from '../../../src/policy/trust.ts';

const ACCOUNT = '123456789012';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const ECR_READ = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';

function policy(over: Partial<OperatorPolicy> = {}): OperatorPolicy {
  return {
    accounts: {},
    allowedNamespaces: [],
    allowedPolicyARNs: ['*'],
    deniedPolicyARNs: [...DEFAULT_DENIED_POLICY_ARNS],
    deniedActions: [...DEFAULT_DENIED_ACTIONS],
    deniedWriteServices: [...DEFAULT_DENIED_WRITE_SERVICES],
    exemptActions: [],
    allowedActionPrefixes: [],
    allowedIssuers: [],
    subjectPatternNamespaces: [],
    maxRolesPerNamespace: 0,
    rolePrefix: '',
    ...over,
  };
}

const OWN_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/OWN';
const OWN: TrustSubject = {
  oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${OWN_ISSUER}`,
  issuerHostPath: OWN_ISSUER,
  namespace: 'team',
  serviceAccountName: 'app',
  audience: 'sts.amazonaws.com',
};

function role(over: Partial<DesiredRole> = {}): DesiredRole {
  const name = over.name ?? 'prod.team.app';
  return {
    name,
    path: '/',
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    description: 'test role',
    maxSessionDuration: 3600,
    permissionsBoundary: undefined,
    trustPolicy: { Version: '2012-10-17', Statement: [] },
    tags: {},
    managedPolicyArns: [],
    inlinePolicies: {},
    ...over,
  };
}

function input(over: Partial<GuardInput> = {}): GuardInput {
  return {
    namespace: 'team',
    account: ACCOUNT,
    ownAccount: ACCOUNT,
    namespaceAnnotations: {},
    role: role(),
    trust: OWN,
    otherClusters: [],
    explicitRoleName: false,
    roleIndexInNamespace: () => 0,
    ...over,
  };
}

function allowDoc(action: string | string[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] };
}

const DENIED = await resolveDeniedActions(policy());
const check = (p: OperatorPolicy, g: GuardInput, denied: readonly DeniedAction[] = DENIED) => checkOperatorPolicy(p, denied, g);

function refused(p: OperatorPolicy, g: GuardInput): SpecProblem {
  const got = check(p, g);
  assert.ok(got, 'expected a refusal');
  assert.match(got.reason, /^[A-Z][A-Za-z]+$/);
  assert.ok(got.message.length > 0, 'the message is empty');
  return got;
}

describe('checkOperatorPolicy: namespaces', () => {
  const cases: { name: string; allowed: string[]; namespace: string; ok: boolean }[] = [
    { name: 'team-* allows team-a', allowed: ['team-*'], namespace: 'team-a', ok: true },
    { name: 'team-* refuses kube-system', allowed: ['team-*'], namespace: 'kube-system', ok: false },
    { name: 'team-* refuses team (no dash)', allowed: ['team-*'], namespace: 'team', ok: false },
    { name: 'second pattern matches', allowed: ['team-*', 'apps'], namespace: 'apps', ok: true },
    { name: 'empty list allows all', allowed: [], namespace: 'kube-system', ok: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const p = policy({ allowedNamespaces: tc.allowed });
      const g = input({ namespace: tc.namespace });
      if (tc.ok) assert.equal(check(p, g), undefined);
      else {
        const got = refused(p, g);
        assert.equal(got.reason, 'NamespaceNotAllowed');
        assert.ok(got.message.includes(tc.namespace), got.message);
        assert.ok(got.message.includes(tc.allowed.join(', ')), got.message);
      }
    });
  }

  it('refuses the namespace even in attachRoleARN mode', () => {
    assert.equal(
      refused(policy({ allowedNamespaces: ['team-*'] }), input({ namespace: 'kube-system', role: undefined })).reason,
      'NamespaceNotAllowed',
    );
  });
});

describe('checkOperatorPolicy: attachRoleARN mode (no role)', () => {
  it('passes everything after the namespace check', () => {
    const strict = policy({ allowedNamespaces: ['team-*'], allowedPolicyARNs: [], maxRolesPerNamespace: 1, rolePrefix: 'irsa-' });
    assert.equal(
      check(strict, input({ namespace: 'team-a', role: undefined, explicitRoleName: true, roleIndexInNamespace: () => 5 })),
      undefined,
    );
  });
});

describe('checkOperatorPolicy: role names', () => {
  const cases: { name: string; prefix: string; roleName: string; explicit: boolean; ok: boolean }[] = [
    { name: 'explicit name without the prefix is refused', prefix: 'irsa-', roleName: 'my-role', explicit: true, ok: false },
    { name: 'explicit name with the prefix passes', prefix: 'irsa-', roleName: 'irsa-my-role', explicit: true, ok: true },
    { name: 'prefix is case-sensitive', prefix: 'irsa-', roleName: 'IRSA-my-role', explicit: true, ok: false },
    { name: 'derived names are not checked', prefix: 'irsa-', roleName: 'my-role', explicit: false, ok: true },
    { name: 'no prefix set: any explicit name passes', prefix: '', roleName: 'my-role', explicit: true, ok: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const p = policy({ rolePrefix: tc.prefix });
      const g = input({ role: role({ name: tc.roleName }), explicitRoleName: tc.explicit });
      if (tc.ok) assert.equal(check(p, g), undefined);
      else {
        const got = refused(p, g);
        assert.equal(got.reason, 'RoleNameNotAllowed');
        assert.ok(got.message.includes(tc.prefix), got.message);
      }
    });
  }
});

describe('checkOperatorPolicy: roles per namespace', () => {
  const cases: { name: string; max: number; index: number; ok: boolean }[] = [
    { name: 'first of two passes', max: 2, index: 0, ok: true },
    { name: 'last within the cap passes', max: 2, index: 1, ok: true },
    { name: 'index equal to the cap is refused', max: 2, index: 2, ok: false },
    { name: 'index above the cap is refused', max: 2, index: 7, ok: false },
    { name: 'cap of one refuses the second', max: 1, index: 1, ok: false },
    { name: '0 means no cap', max: 0, index: 1000, ok: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const p = policy({ maxRolesPerNamespace: tc.max });
      const g = input({ roleIndexInNamespace: () => tc.index });
      if (tc.ok) assert.equal(check(p, g), undefined);
      else {
        const got = refused(p, g);
        assert.equal(got.reason, 'NamespaceRoleQuotaExceeded');
        assert.ok(got.message.includes(`namespace team may hold ${String(tc.max)} roles`), got.message);
      }
    });
  }
  it('does not ask for the index (a sort of the namespace) without a cap', () => {
    let asked = 0;
    const g = input({ roleIndexInNamespace: () => ++asked });
    assert.equal(check(policy({ maxRolesPerNamespace: 0 }), g), undefined);
    assert.equal(asked, 0);
    check(policy({ maxRolesPerNamespace: 5 }), g);
    assert.equal(asked, 1);
  });
});

describe('checkOperatorPolicy: managed policies', () => {
  const denied: { name: string; arn: string }[] = [
    { name: 'AdministratorAccess in aws', arn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    { name: 'AdministratorAccess in aws-cn', arn: 'arn:aws-cn:iam::aws:policy/AdministratorAccess' },
    { name: 'AdministratorAccess in aws-us-gov', arn: 'arn:aws-us-gov:iam::aws:policy/AdministratorAccess' },
    { name: 'AdministratorAccess-Amplify', arn: 'arn:aws:iam::aws:policy/AdministratorAccess-Amplify' },
    { name: 'IAMFullAccess', arn: 'arn:aws:iam::aws:policy/IAMFullAccess' },
    { name: 'AWSOrganizationsFullAccess', arn: 'arn:aws:iam::aws:policy/AWSOrganizationsFullAccess' },
  ];
  for (const tc of denied) {
    it(`PolicyDenied: ${tc.name}, even when allowedPolicyARNs is ['*']`, () => {
      const got = refused(policy({ allowedPolicyARNs: ['*'] }), input({ role: role({ managedPolicyArns: [S3_READ, tc.arn] }) }));
      assert.equal(got.reason, 'PolicyDenied');
      assert.ok(got.message.startsWith(tc.arn), got.message);
    });
  }

  it('a customer policy named AdministratorAccess is not an AWS-managed one', () => {
    assert.equal(
      check(policy(), input({ role: role({ managedPolicyArns: [`arn:aws:iam::${ACCOUNT}:policy/AdministratorAccess`] }) })),
      undefined,
    );
  });

  const allowList: { name: string; allowed: string[]; arns: string[]; want: string | undefined }[] = [
    { name: 'an exact ARN in the list', allowed: [S3_READ], arns: [S3_READ], want: undefined },
    { name: 'a glob in the list', allowed: ['arn:aws:iam::aws:policy/AmazonS3*'], arns: [S3_READ], want: undefined },
    { name: 'no managed policies', allowed: [], arns: [], want: undefined },
    { name: 'an ARN outside the list', allowed: [S3_READ], arns: [ECR_READ], want: 'PolicyNotAllowed' },
    { name: 'the second ARN outside the list', allowed: [S3_READ], arns: [S3_READ, ECR_READ], want: 'PolicyNotAllowed' },
    { name: 'an empty list allows none', allowed: [], arns: [S3_READ], want: 'PolicyNotAllowed' },
  ];
  for (const tc of allowList) {
    it(`allowedPolicyARNs: ${tc.name}`, () => {
      const p = policy({ allowedPolicyARNs: tc.allowed });
      const g = input({ role: role({ managedPolicyArns: tc.arns }) });
      if (tc.want === undefined) assert.equal(check(p, g), undefined);
      else {
        const got = refused(p, g);
        assert.equal(got.reason, tc.want);
        assert.ok(got.message.startsWith(`${tc.arns.find((a) => !tc.allowed.includes(a)) ?? ''} is not among`), got.message);
        assert.ok(got.message.includes(`(${tc.allowed.join(', ') || 'none'})`), got.message);
      }
    });
  }
});

describe('checkOperatorPolicy: namespace annotation', () => {
  const p = policy({ allowedPolicyARNs: [S3_READ] });
  const withEcr = role({ managedPolicyArns: [ECR_READ] });
  const cases: { name: string; annotation: string | undefined; ok: boolean }[] = [
    { name: 'no annotation: refused', annotation: undefined, ok: false },
    { name: 'exact ARN', annotation: ECR_READ, ok: true },
    { name: 'a glob', annotation: 'arn:aws:iam::aws:policy/AmazonEC2Container*', ok: true },
    { name: 'comma-separated, second item', annotation: `arn:aws:iam::aws:policy/Other,${ECR_READ}`, ok: true },
    { name: 'spaces trimmed', annotation: ` arn:aws:iam::aws:policy/Other ,  ${ECR_READ}  `, ok: true },
    { name: 'empty items ignored', annotation: `,, ,${ECR_READ},`, ok: true },
    { name: 'only empty items add nothing', annotation: ' , ,', ok: false },
    { name: 'empty annotation adds nothing', annotation: '', ok: false },
    { name: 'a non-matching pattern', annotation: 'arn:aws:iam::aws:policy/AmazonS3*', ok: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const annotations: Record<string, string> =
        tc.annotation === undefined ? {} : { [NAMESPACE_ALLOWED_POLICIES_ANNOTATION]: tc.annotation };
      const g = input({ namespaceAnnotations: annotations, role: withEcr });
      if (tc.ok) assert.equal(check(p, g), undefined);
      else assert.equal(refused(p, g).reason, 'PolicyNotAllowed');
    });
  }

  it('keeps the global list next to the annotation', () => {
    const g = input({
      namespaceAnnotations: { [NAMESPACE_ALLOWED_POLICIES_ANNOTATION]: ECR_READ },
      role: role({ managedPolicyArns: [S3_READ, ECR_READ] }),
    });
    assert.equal(check(p, g), undefined);
  });

  it('names the annotation patterns among the allowed ones in the message', () => {
    const g = input({ namespaceAnnotations: { [NAMESPACE_ALLOWED_POLICIES_ANNOTATION]: ' extra-a , extra-b ' }, role: withEcr });
    const got = refused(p, g);
    assert.equal(got.reason, 'PolicyNotAllowed');
    assert.ok(got.message.includes(`(${S3_READ}, extra-a, extra-b)`), got.message);
  });

  it('applies to the annotated namespace only', () => {
    const annotated = input({
      namespace: 'team-a',
      namespaceAnnotations: { [NAMESPACE_ALLOWED_POLICIES_ANNOTATION]: ECR_READ },
      role: withEcr,
    });
    const other = input({ namespace: 'team-b', namespaceAnnotations: {}, role: withEcr });
    assert.equal(check(p, annotated), undefined);
    assert.equal(refused(p, other).reason, 'PolicyNotAllowed');
  });

  it('other annotations are ignored', () => {
    assert.equal(
      refused(p, input({ namespaceAnnotations: { 'example.com/allowed-policy-arns': ECR_READ }, role: withEcr })).reason,
      'PolicyNotAllowed',
    );
  });

  const overrides = ['*', 'arn:aws:iam::aws:policy/AdministratorAccess', 'arn:*:iam::aws:policy/*'];
  for (const annotation of overrides) {
    it(`never overrides a deny: ${annotation}`, () => {
      const g = input({
        namespaceAnnotations: { [NAMESPACE_ALLOWED_POLICIES_ANNOTATION]: annotation },
        role: role({ managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }),
      });
      assert.equal(refused(policy({ allowedPolicyARNs: [] }), g).reason, 'PolicyDenied');
    });
  }
});

describe('checkOperatorPolicy: inline policies', () => {
  it('refuses an inline policy granting iam:*, naming the policy', () => {
    const got = refused(policy(), input({ role: role({ inlinePolicies: { 'irsa-attach-policy': allowDoc('iam:*') } }) }));
    assert.equal(got.reason, 'InlinePolicyDenied');
    assert.match(got.message, /^inline policy irsa-attach-policy: statement 0 grants iam:PassRole, .*\(deniedActions iam:PassRole\)/);
  });

  it('names the offending policy among several', () => {
    const got = refused(
      policy(),
      input({ role: role({ inlinePolicies: { good: allowDoc('s3:GetObject'), bad: allowDoc(['s3:GetObject', 'sts:AssumeRole']) } }) }),
    );
    assert.equal(got.reason, 'InlinePolicyDenied');
    assert.match(got.message, /^inline policy bad: statement 0 grants sts:AssumeRole,/);
  });

  it('passes a harmless inline policy', () => {
    assert.equal(
      check(policy(), input({ role: role({ inlinePolicies: { 'irsa-attach-policy': allowDoc(['s3:GetObject', 'iam:GetRole']) } }) })),
      undefined,
    );
  });

  it('applies allowedActionPrefixes to inline policies', () => {
    const p = policy({ allowedActionPrefixes: ['s3:'] });
    assert.equal(check(p, input({ role: role({ inlinePolicies: { x: allowDoc('S3:GetObject') } }) })), undefined);
    const got = refused(p, input({ role: role({ inlinePolicies: { x: allowDoc('sqs:SendMessage') } }) }));
    assert.equal(got.reason, 'InlinePolicyDenied');
    assert.match(got.message, /^inline policy x: .*may only use s3:/);
  });

  const wellKnown = ['awsLoadBalancerController', 'externalDNS', 'anything'];
  for (const wk of wellKnown) {
    it(`exempts the well-known policy ${wellKnownPolicyName(wk)}`, () => {
      const doc = allowDoc(['iam:CreateServiceLinkedRole', 'ec2:DescribeVpcs']);
      const p = policy({ allowedActionPrefixes: ['s3:'] });
      assert.equal(check(p, input({ role: role({ inlinePolicies: { [wellKnownPolicyName(wk)]: doc } }) })), undefined);
      // The same document under another name is refused.
      assert.equal(
        refused(p, input({ role: role({ inlinePolicies: { [`x-${wellKnownPolicyName(wk)}`]: doc } }) })).reason,
        'InlinePolicyDenied',
      );
    });
  }

  it('a well-known policy does not exempt the other inline policies', () => {
    const inline = {
      [wellKnownPolicyName('awsLoadBalancerController')]: allowDoc('iam:CreateServiceLinkedRole'),
      'irsa-attach-policy': allowDoc('iam:PassRole'),
    };
    const got = refused(policy(), input({ role: role({ inlinePolicies: inline }) }));
    assert.equal(got.reason, 'InlinePolicyDenied');
    assert.match(got.message, /^inline policy irsa-attach-policy:/);
  });
});

describe('checkOperatorPolicy: order of checks and the shape of refusals', () => {
  const everythingWrong = input({
    namespace: 'kube-system',
    role: role({ name: 'admin', managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'], inlinePolicies: { p: allowDoc('*') } }),
    explicitRoleName: true,
    roleIndexInNamespace: () => 3,
  });
  const base = { allowedNamespaces: ['team-*'], rolePrefix: 'irsa-', maxRolesPerNamespace: 1, allowedPolicyARNs: [] };
  const cases: { name: string; p: OperatorPolicy; g: GuardInput; want: string }[] = [
    { name: 'namespace first', p: policy(base), g: everythingWrong, want: 'NamespaceNotAllowed' },
    { name: 'then the role name', p: policy({ ...base, allowedNamespaces: [] }), g: everythingWrong, want: 'RoleNameNotAllowed' },
    {
      name: 'then the quota',
      p: policy({ ...base, allowedNamespaces: [], rolePrefix: '' }),
      g: everythingWrong,
      want: 'NamespaceRoleQuotaExceeded',
    },
    {
      name: 'then managed policies',
      p: policy({ ...base, allowedNamespaces: [], rolePrefix: '', maxRolesPerNamespace: 0 }),
      g: everythingWrong,
      want: 'PolicyDenied',
    },
    {
      name: 'then policy allow-list',
      p: policy({ ...base, allowedNamespaces: [], rolePrefix: '', maxRolesPerNamespace: 0, deniedPolicyARNs: [] }),
      g: everythingWrong,
      want: 'PolicyNotAllowed',
    },
    {
      name: 'then inline policies',
      p: policy({ allowedNamespaces: [], rolePrefix: '', maxRolesPerNamespace: 0, deniedPolicyARNs: [], allowedPolicyARNs: ['*'] }),
      g: everythingWrong,
      want: 'InlinePolicyDenied',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = refused(tc.p, tc.g);
      assert.equal(got.reason, tc.want);
    });
  }

  it('passes with nothing denied', () => {
    assert.equal(check(policy({ deniedPolicyARNs: [], deniedActions: [], deniedWriteServices: [] }), everythingWrong, []), undefined);
  });
});

describe('checkOperatorPolicy: accounts', () => {
  const TARGET = '210987654321';
  const withTarget = policy({ accounts: { [TARGET]: { allowedNamespaces: ['team-*'] } } });

  it("the operator's own account needs no entry", () => {
    assert.equal(check(policy(), input({ account: ACCOUNT })), undefined);
  });

  it('refuses an account the configuration does not name (AccountNotAllowed), naming the ones it does', () => {
    const got = refused(withTarget, input({ account: '999999999999' }));
    assert.equal(got.reason, 'AccountNotAllowed');
    assert.match(got.message, new RegExp(`accounts ${ACCOUNT}, ${TARGET}, not 999999999999`));
  });

  it('refuses an attachRoleARN object of such an account too (no role of its own)', () => {
    assert.equal(refused(withTarget, input({ account: '999999999999', role: undefined })).reason, 'AccountNotAllowed');
  });

  it('opens a configured account to the namespaces its allowedNamespaces match, and to those whose annotation names it', () => {
    assert.equal(check(withTarget, input({ namespace: 'team-a', account: TARGET })), undefined);
    const got = refused(withTarget, input({ namespace: 'payments', account: TARGET }));
    assert.equal(got.reason, 'AccountNotAllowedInNamespace');
    assert.match(got.message, /namespace payments may not use account 210987654321 \(it is open to namespaces team-\*\)/);
    const annotated = { [NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION]: `111111111111, ${TARGET}` };
    assert.equal(check(withTarget, input({ namespace: 'payments', account: TARGET, namespaceAnnotations: annotated })), undefined);
  });

  it('an account open to no namespace is open to none; an annotation cannot open an account the configuration lacks', () => {
    const closed = policy({ accounts: { [TARGET]: { allowedNamespaces: [] } } });
    assert.equal(refused(closed, input({ namespace: 'team-a', account: TARGET })).reason, 'AccountNotAllowedInNamespace');
    const annotated = { [NAMESPACE_ALLOWED_ACCOUNTS_ANNOTATION]: '999999999999' };
    assert.equal(refused(withTarget, input({ account: '999999999999', namespaceAnnotations: annotated })).reason, 'AccountNotAllowed');
  });

  it('the namespace rule comes first: a namespace the operator does not serve is NamespaceNotAllowed whatever the account', () => {
    assert.equal(
      refused({ ...withTarget, allowedNamespaces: ['team-*'] }, input({ namespace: 'x', account: '999999999999' })).reason,
      'NamespaceNotAllowed',
    );
  });
});
