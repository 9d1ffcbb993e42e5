// One role trusted by several clusters (spec.additionalClusters) and subject patterns
// (spec.subjectPattern): the document built, its size as IAM counts it, the verdicts of IAM's rules
// for each cluster's token, and every way out of the namespace a tenant might try, at each layer
// (the schema, desiredState, the guard's audit of the built document).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IamServiceAccount, IamServiceAccountSpec } from '../../../src/api/types.ts';
import { validateSpec } from '../../../src/api/validate.ts';
import { minifiedLength, type PolicyDocument } from '../../../src/policy/document.ts';
import { desiredState, type ClusterIdentity, type Desired, type RoleDefaults } from '../../../src/policy/desired.ts';
import { checkOperatorPolicy, DEFAULT_DENIED_POLICY_ARNS, type GuardInput, type OperatorPolicy } from '../../../src/policy/guard.ts';
import { isSubjectPattern, subjectEscape, subjectPatternMatches } from '../../../src/policy/subject-pattern.ts';
import { buildTrustPolicy, trustPolicyTooLarge, trustStatement, type TrustSubject } from '../../../src/policy/trust.ts';
import { judgeTrust, judgeTrustAll } from '../../../src/policy/trust-check.ts';

const ACCOUNT = '123456789012';
const OWN = 'oidc.eks.eu-west-1.amazonaws.com/id/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const B = 'oidc.eks.us-west-2.amazonaws.com/id/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const C = 'oidc.eks.ap-south-1.amazonaws.com/id/CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC';
const provider = (hostPath: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${hostPath}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/prod.team.app`;

function identity(over: Partial<RoleDefaults> = {}): ClusterIdentity & RoleDefaults {
  return {
    clusterName: 'prod',
    partition: 'aws',
    account: ACCOUNT,
    issuerHostPath: OWN,
    oidcProviderArn: provider(OWN),
    rolePrefix: '',
    rolePathPrefix: '/',
    permissionsBoundary: undefined,
    trustPolicyLimit: 2048,
    maxManagedPolicies: 10,
    ...over,
  };
}

function obj(spec: IamServiceAccountSpec, namespace = 'team', name = 'app'): IamServiceAccount {
  return { apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name, namespace }, spec };
}

function desired(spec: IamServiceAccountSpec, namespace = 'team', over: Partial<RoleDefaults> = {}): Desired {
  const id = identity(over);
  const r = desiredState(obj(spec, namespace), id, id);
  assert.ok(r.ok, r.ok ? '' : `${r.problem.reason}: ${r.problem.message}`);
  return r.desired;
}

function problem(spec: IamServiceAccountSpec, namespace = 'team', over: Partial<RoleDefaults> = {}): { reason: string; message: string } {
  const id = identity(over);
  const r = desiredState(obj(spec, namespace), id, id);
  assert.ok(!r.ok, 'expected a problem');
  return r.problem;
}

const subject = (hostPath: string, over: Partial<TrustSubject> = {}): TrustSubject => ({
  oidcProviderArn: provider(hostPath),
  issuerHostPath: hostPath,
  namespace: 'team',
  serviceAccountName: 'app',
  audience: 'sts.amazonaws.com',
  ...over,
});

/** What IAM's rules say of a token with these claims (iss as IAM names it, sub, aud). */
const admits = (doc: PolicyDocument, hostPath: string, namespace: string, sa: string, audience = 'sts.amazonaws.com') =>
  judgeTrust(doc, ROLE, subject(hostPath, { namespace, serviceAccountName: sa, audience })).admitted;

describe('buildTrustPolicy with other clusters and a pattern', () => {
  it('one statement per cluster, in order, each pinned to its own provider and condition keys', () => {
    const d = desired({
      additionalClusters: [{ issuer: `https://${B}` }, { issuer: `https://${C}`, namespace: 'ops', serviceAccount: 'x' }],
    });
    assert.ok(d.role);
    assert.deepEqual(d.role.trustPolicy, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: provider(OWN) },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${OWN}:sub`]: 'system:serviceaccount:team:app', [`${OWN}:aud`]: 'sts.amazonaws.com' } },
        },
        {
          Effect: 'Allow',
          Principal: { Federated: provider(B) },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${B}:sub`]: 'system:serviceaccount:team:app', [`${B}:aud`]: 'sts.amazonaws.com' } },
        },
        {
          Effect: 'Allow',
          Principal: { Federated: provider(C) },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${C}:sub`]: 'system:serviceaccount:ops:x', [`${C}:aud`]: 'sts.amazonaws.com' } },
        },
      ],
    });
  });

  it('without other clusters or a pattern the document is the single statement it always was', () => {
    const d = desired({});
    assert.deepEqual(d.role?.trustPolicy, buildTrustPolicy(subject(OWN)));
    assert.deepEqual(d.otherClusters, []);
    assert.equal('subjectPattern' in d.trust, false);
  });

  it('a pattern: StringLike on sub within the namespace, StringEquals on aud', () => {
    assert.deepEqual(trustStatement(subject(OWN, { subjectPattern: 'ci-*' })), {
      Effect: 'Allow',
      Principal: { Federated: provider(OWN) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { [`${OWN}:aud`]: 'sts.amazonaws.com' },
        StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:team:ci-*' },
      },
    });
  });

  const patternCases: {
    name: string;
    entry: NonNullable<IamServiceAccountSpec['additionalClusters']>[number];
    sub: string;
    like: boolean;
  }[] = [
    {
      name: 'no namespace, no ServiceAccount: the pattern',
      entry: { issuer: `https://${B}` },
      sub: 'system:serviceaccount:team:ci-*',
      like: true,
    },
    {
      name: 'this namespace named: the pattern',
      entry: { issuer: `https://${B}`, namespace: 'team' },
      sub: 'system:serviceaccount:team:ci-*',
      like: true,
    },
    {
      name: 'another namespace: the named ServiceAccount, exactly (a pattern never leaves its namespace)',
      entry: { issuer: `https://${B}`, namespace: 'ops' },
      sub: 'system:serviceaccount:ops:ci-runner',
      like: false,
    },
    {
      name: 'a ServiceAccount named: exactly that one',
      entry: { issuer: `https://${B}`, serviceAccount: 'deployer' },
      sub: 'system:serviceaccount:team:deployer',
      like: false,
    },
  ];
  for (const tc of patternCases) {
    it(`other cluster with a pattern on this object: ${tc.name}`, () => {
      const d = desired({ serviceAccount: { name: 'ci-runner' }, subjectPattern: 'ci-*', additionalClusters: [tc.entry] });
      const st = (d.role?.trustPolicy.Statement as Record<string, { StringLike?: object; StringEquals?: object }>[])[1];
      const block = tc.like ? st?.Condition?.StringLike : st?.Condition?.StringEquals;
      assert.deepEqual((block as Record<string, string>)[`${B}:sub`], tc.sub);
      assert.equal(d.otherClusters[0]?.serviceAccountName, tc.entry.serviceAccount ?? 'ci-runner');
    });
  }

  it('each other cluster gets the object audience and a provider in the role account and partition', () => {
    const id = { ...identity(), partition: 'aws-cn' as const, oidcProviderArn: `arn:aws-cn:iam::${ACCOUNT}:oidc-provider/${OWN}` };
    const r = desiredState(obj({ audience: 'sts.amazonaws.com.cn', additionalClusters: [{ issuer: `https://${B}` }] }), id, id);
    assert.ok(r.ok);
    assert.deepEqual(r.desired.otherClusters, [
      {
        oidcProviderArn: `arn:aws-cn:iam::${ACCOUNT}:oidc-provider/${B}`,
        issuerHostPath: B,
        namespace: 'team',
        serviceAccountName: 'app',
        audience: 'sts.amazonaws.com.cn',
      },
    ]);
  });
});

describe('size as IAM counts it', () => {
  it('is the characters of the JSON without white space, however it is laid out', () => {
    const doc = buildTrustPolicy(subject(OWN, { subjectPattern: '*' }), [subject(B), subject(C, { namespace: 'ops' })]);
    const pretty = JSON.stringify(doc, null, 2);
    assert.ok(pretty.length > minifiedLength(doc));
    assert.equal(pretty.replace(/\s/g, '').length, minifiedLength(doc));
  });

  it('an EKS cluster adds a statement of about 430 characters: the default 2,048 hold four clusters, 8,192 eighteen', () => {
    const one = minifiedLength(buildTrustPolicy(subject(OWN)));
    const two = minifiedLength(buildTrustPolicy(subject(OWN), [subject(B)]));
    const each = two - one;
    assert.ok(each >= 420 && each <= 440, `${each}`);
    const fits = (n: number, limit = 2048) =>
      trustPolicyTooLarge(
        buildTrustPolicy(
          subject(OWN),
          Array.from({ length: n - 1 }, (_, i) => subject(`oidc.eks.us-west-2.amazonaws.com/id/${String(i).padStart(32, '0')}`)),
        ),
        limit,
      ) === undefined;
    assert.equal(fits(4), true);
    assert.equal(fits(5), false);
    assert.equal(fits(9, 4096), true);
    assert.equal(fits(10, 4096), false);
    assert.equal(fits(18, 8192), true);
    assert.equal(fits(19, 8192), false);
  });

  const clusters = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ issuer: `https://oidc.eks.us-west-2.amazonaws.com/id/${String(i).padStart(32, '0')}` }));
  const cases: { name: string; n: number; limit: number; fits: boolean }[] = [
    { name: 'three others under the default limit', n: 3, limit: 2048, fits: true },
    { name: 'four others over the default limit', n: 4, limit: 2048, fits: false },
    { name: 'four others under a raised 4,096', n: 4, limit: 4096, fits: true },
    { name: 'eight others under 4,096', n: 8, limit: 4096, fits: true },
    { name: 'nine others over 4,096', n: 9, limit: 4096, fits: false },
    { name: 'seventeen others under 8,192', n: 17, limit: 8192, fits: true },
    { name: 'eighteen others over 8,192', n: 18, limit: 8192, fits: false },
  ];
  for (const tc of cases) {
    it(`${tc.name}: ${tc.fits ? 'fits' : 'TrustPolicyTooLarge'}`, () => {
      const id = identity({ trustPolicyLimit: tc.limit });
      const r = desiredState(obj({ additionalClusters: clusters(tc.n) }), id, id);
      if (tc.fits) {
        assert.ok(r.ok, r.ok ? '' : r.problem.message);
        assert.ok(minifiedLength(r.desired.role?.trustPolicy ?? {}) <= tc.limit);
        return;
      }
      assert.ok(!r.ok);
      assert.equal(r.problem.reason, 'TrustPolicyTooLarge');
      const size = minifiedLength(
        buildTrustPolicy(
          subject(OWN),
          clusters(tc.n).map((c) => subject(c.issuer.slice(8))),
        ),
      );
      assert.match(
        r.problem.message,
        new RegExp(`would be ${size} characters \\(as IAM counts them, without white space\\), over the limit of ${tc.limit}`),
      );
      assert.match(
        r.problem.message,
        new RegExp(`list fewer clusters in spec.additionalClusters \\(${tc.n + 1} statements of about \\d+ characters each\\)`),
      );
      assert.match(r.problem.message, /spec\.subjectPattern/);
      assert.match(r.problem.message, /quota "Role trust policy length" \(up to 8192\)/);
    });
  }

  it('lands exactly on the limit: fits; one more character: too large', () => {
    const size = minifiedLength(desired({ additionalClusters: clusters(3) }).role?.trustPolicy ?? {});
    assert.equal(size, 1762);
    assert.equal(desired({ additionalClusters: clusters(3) }, 'team', { trustPolicyLimit: size }).otherClusters.length, 3);
    const p = problem({ additionalClusters: clusters(3) }, 'team', { trustPolicyLimit: size - 1 });
    assert.equal(p.reason, 'TrustPolicyTooLarge');
    assert.match(p.message, /would be 1762 characters .* over the limit of 1761 /);
  });
});

describe('judgeTrustAll: each cluster token, and only theirs', () => {
  const d = desired({
    additionalClusters: [{ issuer: `https://${B}` }, { issuer: `https://${C}`, namespace: 'ops', serviceAccount: 'x' }],
  });
  const doc = d.role?.trustPolicy ?? {};

  it('admits the ServiceAccount of every cluster it lists', () => {
    const all = judgeTrustAll(doc, ROLE, d.trust, d.otherClusters);
    assert.equal(all.admitted, true);
    assert.match(
      all.message,
      /statement 0\), and tokens of the other clusters: system:serviceaccount:team:app from oidc\.eks\.us-west-2.*system:serviceaccount:ops:x from oidc\.eks\.ap-south-1/,
    );
    assert.equal(admits(doc, OWN, 'team', 'app'), true);
    assert.equal(admits(doc, B, 'team', 'app'), true);
    assert.equal(admits(doc, C, 'ops', 'x'), true);
  });

  const refused: { name: string; hostPath: string; ns: string; sa: string; aud?: string }[] = [
    { name: 'a third issuer', hostPath: 'oidc.eks.eu-north-1.amazonaws.com/id/DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD', ns: 'team', sa: 'app' },
    { name: 'cluster C with the default subject (it names ops/x)', hostPath: C, ns: 'team', sa: 'app' },
    { name: 'cluster B, another ServiceAccount', hostPath: B, ns: 'team', sa: 'other' },
    { name: 'cluster B, another namespace', hostPath: B, ns: 'ops', sa: 'app' },
    { name: 'this cluster, the subject of cluster C', hostPath: OWN, ns: 'ops', sa: 'x' },
    { name: 'cluster B, another audience', hostPath: B, ns: 'team', sa: 'app', aud: 'vault' },
  ];
  for (const tc of refused) {
    it(`refuses ${tc.name}`, () => {
      assert.equal(admits(doc, tc.hostPath, tc.ns, tc.sa, tc.aud), false);
    });
  }

  it('says which cluster is refused when one is', () => {
    const onlyOwn = buildTrustPolicy(d.trust);
    const judged = judgeTrustAll(onlyOwn, ROLE, d.trust, d.otherClusters);
    assert.equal(judged.admitted, false);
    assert.match(judged.message, new RegExp(`^for the cluster of issuer ${B.replaceAll('.', '\\.')}: no statement`));
  });

  it('is judgeTrust for this cluster alone when no other is listed', () => {
    assert.deepEqual(judgeTrustAll(doc, ROLE, d.trust, []), judgeTrust(doc, ROLE, d.trust));
  });
});

describe('subject patterns: whom they admit', () => {
  const d = desired({ serviceAccount: { name: 'ci-runner' }, subjectPattern: 'ci-*' });
  const doc = d.role?.trustPolicy ?? {};
  const cases: { ns: string; sa: string; want: boolean }[] = [
    { ns: 'team', sa: 'ci-runner', want: true },
    { ns: 'team', sa: 'ci-', want: true },
    { ns: 'team', sa: 'ci-a.b', want: true },
    { ns: 'team', sa: 'ci', want: false },
    { ns: 'team', sa: 'app', want: false },
    { ns: 'team', sa: 'xci-runner', want: false },
    { ns: 'team-b', sa: 'ci-runner', want: false },
    { ns: 'kube-system', sa: 'ci-runner', want: false },
    { ns: 'tea', sa: 'm:ci-runner', want: false },
  ];
  for (const tc of cases) {
    it(`${tc.want ? 'admits' : 'refuses'} ${tc.ns}/${tc.sa}`, () => {
      assert.equal(admits(doc, OWN, tc.ns, tc.sa), tc.want);
    });
  }

  it('the named ServiceAccount is still the one annotated, and its token is admitted', () => {
    assert.equal(d.serviceAccount?.name, 'ci-runner');
    assert.equal(d.trust.subjectPattern, 'ci-*');
    assert.equal(judgeTrustAll(doc, ROLE, d.trust, d.otherClusters).admitted, true);
  });

  it('* admits every ServiceAccount of the namespace and none of another', () => {
    const all = desired({ subjectPattern: '*' }).role?.trustPolicy ?? {};
    assert.equal(admits(all, OWN, 'team', 'anything'), true);
    assert.equal(admits(all, OWN, 'team-b', 'anything'), false);
    assert.equal(admits(all, OWN, 'other', 'team'), false);
  });

  it('a pattern that does not match the named ServiceAccount is refused: its tokens would not be admitted', () => {
    const p = problem({ subjectPattern: 'ci-*' });
    assert.equal(p.reason, 'InvalidSpec');
    assert.match(p.message, /^spec\.subjectPattern ci-\* does not match the ServiceAccount app, which the operator annotates/);
  });

  it('matches as StringLike does: * any run, nothing else special', () => {
    assert.equal(subjectPatternMatches('ci-*', 'ci-x'), true);
    assert.equal(subjectPatternMatches('*-ci', 'a-ci'), true);
    assert.equal(subjectPatternMatches('a.b', 'axb'), false);
    assert.equal(subjectPatternMatches('a*b*c', 'abc'), true);
  });
});

/** Every way out of the namespace, and what stops it at the schema (the API server and validateSpec). */
const ESCAPES = [
  '*:*',
  '?',
  'ci-?',
  '..',
  'a..b',
  '.*',
  '*.',
  ':',
  'kube-system:*',
  '*:kube-system:*',
  'team-b:*',
  '../kube-system/*',
  'kube-system/*',
  '${aws:username}',
  '$*',
  '{*}',
  'CI-*',
  ' *',
  '*\n',
  '',
  '-*',
  '*-',
  'system:serviceaccount:kube-system:*',
  '*'.repeat(254),
];

describe('subject pattern escapes', () => {
  for (const pattern of ESCAPES) {
    it(`the schema refuses ${JSON.stringify(pattern.length > 40 ? `${pattern.slice(0, 10)}... (${pattern.length})` : pattern)}`, () => {
      assert.equal(isSubjectPattern(pattern), false);
      const p = validateSpec({ subjectPattern: pattern });
      assert.equal(p?.reason, 'InvalidSpec');
      assert.match(p.message, /spec\.subjectPattern/);
    });
  }

  for (const pattern of ['*', 'ci-*', '*-runner', 'a*b', 'ci-*.jobs', 'build.*', 'kube-system', 'x']) {
    it(`the schema accepts ${pattern} (a name in this namespace)`, () => {
      assert.equal(isSubjectPattern(pattern), true);
      assert.equal(validateSpec({ subjectPattern: pattern }), undefined);
    });
  }

  it('another namespace name as the pattern names a ServiceAccount of this namespace, nothing else', () => {
    const doc = desired({ serviceAccount: { name: 'kube-system' }, subjectPattern: 'kube-system' }).role?.trustPolicy ?? {};
    assert.equal(admits(doc, OWN, 'team', 'kube-system'), true);
    assert.equal(admits(doc, OWN, 'kube-system', 'kube-system'), false);
    assert.equal(admits(doc, OWN, 'kube-system', 'anything'), false);
  });

  it('attachRoleARN with a pattern or other clusters is refused: the operator writes no trust there', () => {
    for (const extra of [{ subjectPattern: '*' }, { additionalClusters: [{ issuer: `https://${B}` }] }]) {
      const p = validateSpec({ attachRoleARN: `arn:aws:iam::${ACCOUNT}:role/r`, ...extra });
      assert.equal(p?.reason, 'InvalidSpec');
      assert.match(
        p.message,
        /attachRoleARN uses an existing role as it is: its trust is not written; remove (additionalClusters|subjectPattern)/,
      );
    }
  });
});

describe('additionalClusters: bad entries', () => {
  const schemaRefused: { name: string; entry: Record<string, unknown> }[] = [
    { name: 'an http issuer', entry: { issuer: `http://${B}` } },
    { name: 'an issuer without a scheme', entry: { issuer: B } },
    { name: 'an issuer with a trailing slash', entry: { issuer: `https://${B}/` } },
    { name: 'an issuer in capitals', entry: { issuer: `https://${B.toUpperCase()}` } },
    { name: 'an issuer with a wildcard', entry: { issuer: 'https://oidc.eks.*.amazonaws.com/id/*' } },
    { name: 'an issuer with a query', entry: { issuer: `https://${B}?x=1` } },
    { name: 'an issuer with white space', entry: { issuer: `https://${B} ` } },
    { name: 'an issuer with a policy variable', entry: { issuer: 'https://example.com/${aws:username}' } },
    { name: 'no issuer', entry: { namespace: 'team' } },
    { name: 'a namespace with a colon', entry: { issuer: `https://${B}`, namespace: 'kube-system:x' } },
    { name: 'a namespace with a wildcard', entry: { issuer: `https://${B}`, namespace: '*' } },
    { name: 'a ServiceAccount with a wildcard', entry: { issuer: `https://${B}`, serviceAccount: '*' } },
    { name: 'a ServiceAccount with a colon', entry: { issuer: `https://${B}`, serviceAccount: 'a:b' } },
    { name: 'an unknown field', entry: { issuer: `https://${B}`, subjectPattern: '*' } },
  ];
  for (const tc of schemaRefused) {
    it(`the schema refuses ${tc.name}`, () => {
      const p = validateSpec({ additionalClusters: [tc.entry] });
      assert.equal(p?.reason, 'InvalidSpec');
      assert.match(p.message, /spec\.additionalClusters\.0/);
    });
  }

  it('the schema refuses 33 clusters', () => {
    const many = Array.from({ length: 33 }, (_, i) => ({ issuer: `https://c${i}.example.com` }));
    assert.match(validateSpec({ additionalClusters: many })?.message ?? '', /spec\.additionalClusters must NOT have more than 32 items/);
  });

  it("this cluster's own issuer is refused", () => {
    const p = problem({ additionalClusters: [{ issuer: `https://${OWN}` }] });
    assert.deepEqual(p, {
      reason: 'InvalidSpec',
      message: "spec.additionalClusters[0].issuer is this cluster's own issuer, which the trust admits already: remove it",
    });
  });

  it('an issuer listed twice is refused', () => {
    const p = problem({
      additionalClusters: [{ issuer: `https://${B}` }, { issuer: `https://${C}` }, { issuer: `https://${B}`, namespace: 'x' }],
    });
    assert.deepEqual(p, {
      reason: 'InvalidSpec',
      message: 'spec.additionalClusters[2].issuer repeats spec.additionalClusters[0].issuer: list each cluster once',
    });
  });
});

describe('the guard: allowedIssuers, subjectPatternNamespaces, and the audit of the built trust', () => {
  const policy = (over: Partial<OperatorPolicy> = {}): OperatorPolicy => ({
    accounts: {},
    allowedNamespaces: [],
    allowedPolicyARNs: ['*'],
    deniedPolicyARNs: [...DEFAULT_DENIED_POLICY_ARNS],
    deniedActions: [],
    deniedWriteServices: [],
    exemptActions: [],
    allowedActionPrefixes: [],
    allowedIssuers: [],
    subjectPatternNamespaces: [],
    maxRolesPerNamespace: 0,
    rolePrefix: '',
    ...over,
  });
  const input = (d: Desired, namespace = 'team'): GuardInput => ({
    namespace,
    account: d.roleArn.split(':')[4] ?? '',
    ownAccount: d.roleArn.split(':')[4] ?? '',
    namespaceAnnotations: {},
    role: d.role,
    trust: d.trust,
    otherClusters: d.otherClusters,
    explicitRoleName: false,
    roleIndexInNamespace: () => 0,
  });
  const check = (p: OperatorPolicy, d: Desired, namespace = 'team') => checkOperatorPolicy(p, [], input(d, namespace));

  const twoClusters = desired({ additionalClusters: [{ issuer: `https://${B}` }] });
  const issuerCases: { name: string; allowed: string[]; ok: boolean }[] = [
    { name: 'none allowed (the default)', allowed: [], ok: false },
    { name: 'another issuer allowed', allowed: [`https://${C}`], ok: false },
    { name: 'the issuer allowed', allowed: [`https://${B}`], ok: true },
    { name: 'the issuer allowed with a trailing slash', allowed: [`https://${B}/`], ok: true },
    { name: 'the issuer allowed with its host in capitals', allowed: [`https://${B.replace('oidc.eks', 'OIDC.EKS')}`], ok: true },
    { name: 'a prefix of the issuer is not a glob', allowed: ['https://oidc.eks.us-west-2.amazonaws.com/id/'], ok: false },
    { name: 'a wildcard is not a glob', allowed: ['https://oidc.eks.us-west-2.amazonaws.com/id/*'], ok: false },
    { name: 'a path case differs (IAM compares paths exactly)', allowed: [`https://${B.toLowerCase()}`], ok: false },
  ];
  for (const tc of issuerCases) {
    it(`other cluster, ${tc.name}: ${tc.ok ? 'allowed' : 'IssuerNotAllowed'}`, () => {
      const got = check(policy({ allowedIssuers: tc.allowed }), twoClusters);
      if (tc.ok) {
        assert.equal(got, undefined);
        return;
      }
      assert.equal(got?.reason, 'IssuerNotAllowed');
      assert.match(
        got.message,
        new RegExp(
          `^spec\\.additionalClusters\\[0\\]: the operator may not trust the issuer https://${B.replaceAll('.', '\\.')} \\(allowedIssuers: `,
        ),
      );
      assert.match(got.message, /ask the platform team to add that cluster's issuer, or remove it$/);
    });
  }

  it('names the first entry that is not allowed', () => {
    const d = desired({ additionalClusters: [{ issuer: `https://${B}` }, { issuer: `https://${C}` }] });
    assert.match(
      check(policy({ allowedIssuers: [`https://${B}`] }), d)?.message ?? '',
      /^spec\.additionalClusters\[1\]: .*https:\/\/oidc\.eks\.ap-south-1/,
    );
  });

  const patternCases: { name: string; namespace: string; globs: string[]; ok: boolean; message?: RegExp }[] = [
    {
      name: 'off by default',
      namespace: 'team',
      globs: [],
      ok: false,
      message: /namespace team may not admit ServiceAccounts by pattern \(subjectPatternNamespaces: none\)/,
    },
    { name: 'the namespace listed', namespace: 'team', globs: ['team'], ok: true },
    { name: 'the namespace matched by a glob', namespace: 'team', globs: ['te*'], ok: true },
    { name: 'another namespace listed', namespace: 'team', globs: ['ci'], ok: false, message: /subjectPatternNamespaces: ci\)/ },
    {
      name: 'kube-system, even under *',
      namespace: 'kube-system',
      globs: ['*'],
      ok: false,
      message: /ServiceAccounts of kube-system are never admitted by pattern/,
    },
    { name: 'kube-public, even listed', namespace: 'kube-public', globs: ['kube-public'], ok: false, message: /never admitted by pattern/ },
    {
      name: 'kube-node-lease, even listed',
      namespace: 'kube-node-lease',
      globs: ['kube-*'],
      ok: false,
      message: /never admitted by pattern/,
    },
  ];
  for (const tc of patternCases) {
    it(`subjectPattern, ${tc.name}: ${tc.ok ? 'allowed' : 'SubjectPatternNotAllowed'}`, () => {
      const d = desired({ subjectPattern: '*' }, tc.namespace);
      const got = check(policy({ subjectPatternNamespaces: tc.globs }), d, tc.namespace);
      if (tc.ok) {
        assert.equal(got, undefined);
        return;
      }
      assert.equal(got?.reason, 'SubjectPatternNotAllowed');
      assert.match(got.message, tc.message ?? /./);
    });
  }

  it('objects without a pattern or other clusters pass whatever these lists say', () => {
    assert.equal(check(policy(), desired({})), undefined);
  });

  // The documents desiredState builds never escape; the guard audits them all the same, so that a
  // bug in the builder, or a spec that slipped past the schema, cannot write one that does.
  const stmt = (condition: Record<string, unknown>, hostPath = OWN) => ({
    Effect: 'Allow',
    Principal: { Federated: provider(hostPath) },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: condition,
  });
  const aud = (hostPath = OWN) => ({ [`${hostPath}:aud`]: 'sts.amazonaws.com' });
  const audit: { name: string; statement: Record<string, unknown>; want: RegExp | undefined }[] = [
    {
      name: 'the exact subject',
      statement: stmt({ StringEquals: { [`${OWN}:sub`]: 'system:serviceaccount:team:app', ...aud() } }),
      want: undefined,
    },
    {
      name: 'a pattern in the namespace',
      statement: stmt({ StringEquals: aud(), StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:team:ci-*' } }),
      want: undefined,
    },
    {
      name: 'another cluster, another namespace, exact',
      statement: stmt({ StringEquals: { [`${B}:sub`]: 'system:serviceaccount:ops:x', ...aud(B) } }, B),
      want: undefined,
    },
    {
      name: 'a pattern over namespaces',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:*' } }),
      want: /is not system:serviceaccount:<namespace>:<name>/,
    },
    {
      name: 'a pattern *:*',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:*:*' } }),
      want: /is not system:serviceaccount:<namespace>:<name>/,
    },
    {
      name: 'a pattern in kube-system',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:kube-system:*' } }),
      want: /outside namespace team \(a pattern stays in its own namespace\)/,
    },
    {
      name: 'a pattern in another namespace of another cluster',
      statement: stmt({ StringLike: { [`${B}:sub`]: 'system:serviceaccount:ops:*' } }, B),
      want: /outside namespace team/,
    },
    {
      name: 'a ? in a pattern',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:team:?' } }),
      want: /is not a ServiceAccount name pattern/,
    },
    {
      name: 'a policy variable',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:team:${aws:username}' } }),
      want: /is not system:serviceaccount:<namespace>:<name>/,
    },
    {
      name: 'a policy variable without a colon',
      statement: stmt({ StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:team:${x}' } }),
      want: /is not a ServiceAccount name pattern/,
    },
    {
      name: "this cluster's token of another namespace",
      statement: stmt({ StringEquals: { [`${OWN}:sub`]: 'system:serviceaccount:kube-system:app' } }),
      want: /outside namespace team$/,
    },
    { name: 'no sub at all (every token of the provider)', statement: stmt({ StringEquals: aud() }), want: /exactly one condition, not 0/ },
    { name: 'no Condition at all', statement: { ...stmt({}), Condition: undefined }, want: /exactly one condition, not 0/ },
    {
      name: 'sub tested twice',
      statement: stmt({
        StringEquals: { [`${OWN}:sub`]: 'system:serviceaccount:team:app' },
        StringLike: { [`${OWN}:sub`]: 'system:serviceaccount:*' },
      }),
      want: /exactly one condition, not 2/,
    },
    {
      name: 'sub by a set operator',
      statement: stmt({ 'ForAnyValue:StringLike': { [`${OWN}:sub`]: 'system:serviceaccount:team:*' } }),
      want: /tests .*:sub with ForAnyValue:StringLike/,
    },
    {
      name: 'sub by StringNotEquals',
      statement: stmt({ StringNotEquals: { [`${OWN}:sub`]: 'system:serviceaccount:team:x' } }),
      want: /with StringNotEquals/,
    },
    {
      name: 'a list with one subject of another namespace',
      statement: stmt({ StringEquals: { [`${OWN}:sub`]: ['system:serviceaccount:team:app', 'system:serviceaccount:other:app'] } }),
      want: /admits system:serviceaccount:other:app, outside namespace team/,
    },
    {
      name: 'the key in capitals',
      statement: stmt({ StringEquals: { [`${OWN.toUpperCase()}:SUB`]: 'system:serviceaccount:other:app' } }),
      want: /outside namespace team/,
    },
  ];
  for (const tc of audit) {
    it(`audit: ${tc.name}: ${tc.want ? 'SubjectPatternNotAllowed' : 'passes'}`, () => {
      const doc = { Version: '2012-10-17', Statement: [tc.statement] };
      const escape = subjectEscape(doc, 'team', OWN);
      if (!tc.want) {
        assert.equal(escape, undefined);
        return;
      }
      assert.match(escape ?? '', tc.want);
      const d = desired({});
      const got = checkOperatorPolicy(policy(), [], { ...input(d), role: d.role && { ...d.role, trustPolicy: doc } });
      assert.equal(got?.reason, 'SubjectPatternNotAllowed');
      assert.match(got.message, /^the trust policy would reach outside the namespace: statement 0/);
    });
  }

  it('audits every document desiredState builds for a table of specs: none escapes', () => {
    const specs: IamServiceAccountSpec[] = [
      {},
      { subjectPattern: '*' },
      {
        serviceAccount: { name: 'ci-1' },
        subjectPattern: 'ci-*',
        additionalClusters: [{ issuer: `https://${B}` }, { issuer: `https://${C}`, namespace: 'ops' }],
      },
      { additionalClusters: [{ issuer: `https://${B}`, namespace: 'kube-system', serviceAccount: 'x' }] },
      { roleOnly: true, subjectPattern: 'app*' },
    ];
    for (const spec of specs)
      assert.equal(subjectEscape(desired(spec).role?.trustPolicy ?? {}, 'team', OWN), undefined, JSON.stringify(spec));
  });
});
