import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { issuerHostPath, oidcProviderArn, type Partition } from '../../../src/policy/arn.ts';
import { asArray, minifiedLength, type PolicyDocument } from '../../../src/policy/document.ts';
import {
  buildTrustPolicy,
  DEFAULT_TRUST_POLICY_LIMIT,
  serviceAccountSubject,
  trustPolicyFor,
  trustPolicyTooLarge,
  type PodIdentitySubject,
  type TrustSubject,
} from '../../../src/policy/trust.ts';
import { subjectEscape } from '../../../src/policy/subject-pattern.ts';
import { judgePaths, judgePodIdentityTrust, judgeTrust } from '../../../src/policy/trust-check.ts';

const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;

function subject(over: Partial<TrustSubject> = {}): TrustSubject {
  return {
    oidcProviderArn: PROVIDER,
    issuerHostPath: ISSUER,
    namespace: 'team',
    serviceAccountName: 'app',
    audience: 'sts.amazonaws.com',
    ...over,
  };
}

describe('serviceAccountSubject', () => {
  it('is system:serviceaccount:<ns>:<sa>', () => {
    assert.equal(serviceAccountSubject('ns1', 'sa1'), 'system:serviceaccount:ns1:sa1');
  });
});

describe('buildTrustPolicy', () => {
  const cases: { name: string; partition: Partition; region: string; issuer: string }[] = [
    { name: 'aws', partition: 'aws', region: 'eu-west-1', issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC/' },
    {
      name: 'aws-cn with the China audience',
      partition: 'aws-cn',
      region: 'cn-north-1',
      issuer: 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/CN',
    },
    { name: 'aws-us-gov', partition: 'aws-us-gov', region: 'us-gov-west-1', issuer: 'oidc.eks.us-gov-west-1.amazonaws.com/id/GOV' },
  ];
  for (const tc of cases) {
    it(`is the exact document (${tc.name})`, () => {
      const hp = issuerHostPath(tc.issuer);
      const provider = oidcProviderArn(tc.partition, '123456789012', hp);
      const aud = tc.partition === 'aws-cn' ? 'sts.amazonaws.com.cn' : 'sts.amazonaws.com';
      const doc = buildTrustPolicy({
        oidcProviderArn: provider,
        issuerHostPath: hp,
        namespace: 'ns',
        serviceAccountName: 'sa',
        audience: aud,
      });
      assert.deepEqual(doc, {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:${tc.partition}:iam::123456789012:oidc-provider/${hp}` },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                [`${hp}:sub`]: 'system:serviceaccount:ns:sa',
                [`${hp}:aud`]: tc.partition === 'aws-cn' ? 'sts.amazonaws.com.cn' : 'sts.amazonaws.com',
              },
            },
          },
        ],
      });
      assert.ok(!JSON.stringify(doc).includes('https://'));
    });
  }

  it('minifies to the exact JSON text', () => {
    const doc = buildTrustPolicy(subject());
    assert.equal(
      JSON.stringify(doc),
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"${PROVIDER}"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"${ISSUER}:sub":"system:serviceaccount:team:app","${ISSUER}:aud":"sts.amazonaws.com"}}}]}`,
    );
  });
});

describe('trustPolicyTooLarge', () => {
  // The service account name appears once in the document: pad it to land exactly on the limit.
  const base = minifiedLength(buildTrustPolicy(subject({ serviceAccountName: '' })));
  const docOfSize = (size: number): PolicyDocument => {
    const doc = buildTrustPolicy(subject({ serviceAccountName: 'a'.repeat(size - base) }));
    assert.equal(minifiedLength(doc), size);
    return doc;
  };

  it('default limit is 2048', () => {
    assert.equal(DEFAULT_TRUST_POLICY_LIMIT, 2048);
  });

  const cases: { name: string; size: number; limit: number | undefined; tooLarge: boolean }[] = [
    { name: 'well under the default limit', size: base + 10, limit: undefined, tooLarge: false },
    { name: 'exactly at the default limit passes', size: 2048, limit: undefined, tooLarge: false },
    { name: 'one character over the default limit fails', size: 2049, limit: undefined, tooLarge: true },
    { name: 'exactly at a raised limit passes', size: 4096, limit: 4096, tooLarge: false },
    { name: 'one over a raised limit fails', size: 4097, limit: 4096, tooLarge: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = trustPolicyTooLarge(docOfSize(tc.size), tc.limit);
      if (!tc.tooLarge) {
        assert.equal(got, undefined);
        return;
      }
      assert.ok(got);
      assert.match(
        got,
        new RegExp(
          `would be ${tc.size} characters \\(as IAM counts them, without white space\\), over the limit of ${tc.limit ?? 2048} \\(trustPolicyLimit\\)`,
        ),
      );
      assert.match(got, /subjectPattern/);
      assert.match(got, /quota "Role trust policy length" \(up to 8192\)/);
    });
  }
});

describe('judgeTrust, as IAM would', () => {
  const s = subject();
  const admits = (d: PolicyDocument, who: TrustSubject = s) => judgeTrust(d, 'arn:aws:iam::123456789012:role/app', who).admitted;
  const sub = `${ISSUER}:sub`;
  const aud = `${ISSUER}:aud`;
  const stmt = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [sub]: 'system:serviceaccount:team:app', [aud]: 'sts.amazonaws.com' } },
    ...over,
  });
  const doc = (...statements: unknown[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

  const cases: { name: string; doc: PolicyDocument; want: boolean }[] = [
    { name: 'the policy buildTrustPolicy writes', doc: buildTrustPolicy(s), want: true },
    { name: 'a single statement object, not a list', doc: { Version: '2012-10-17', Statement: stmt() }, want: true },
    {
      name: 'Federated, Action and values as arrays',
      doc: doc(
        stmt({
          Principal: { Federated: ['arn:aws:iam::1:oidc-provider/other', PROVIDER] },
          Action: ['sts:TagSession', 'sts:AssumeRoleWithWebIdentity'],
          Condition: { StringEquals: { [sub]: ['system:serviceaccount:team:app'], [aud]: ['other', 'sts.amazonaws.com'] } },
        }),
      ),
      want: true,
    },
    {
      name: 'a later statement allows',
      doc: doc(stmt({ Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/other.example.com' } }), stmt()),
      want: true,
    },
    {
      name: 'StringLike on the namespace admits every ServiceAccount of it',
      doc: doc(stmt({ Condition: { StringLike: { [sub]: 'system:serviceaccount:team:*', [aud]: 'sts.amazonaws.com' } } })),
      want: true,
    },
    {
      name: 'wrong sub',
      doc: doc(stmt({ Condition: { StringEquals: { [sub]: 'system:serviceaccount:team:other', [aud]: 'sts.amazonaws.com' } } })),
      want: false,
    },
    {
      name: 'a sub list that names another ServiceAccount too',
      doc: doc(
        stmt({
          Condition: {
            StringEquals: { [sub]: ['system:serviceaccount:team:app', 'system:serviceaccount:team:other'], [aud]: 'sts.amazonaws.com' },
          },
        }),
      ),
      want: true,
    },
    { name: 'no sub condition (aud only)', doc: doc(stmt({ Condition: { StringEquals: { [aud]: 'sts.amazonaws.com' } } })), want: true },
    {
      name: 'wrong aud',
      doc: doc(stmt({ Condition: { StringEquals: { [sub]: 'system:serviceaccount:team:app', [aud]: 'sts.amazonaws.com.cn' } } })),
      want: false,
    },
    {
      name: 'no aud condition (sub only)',
      doc: doc(stmt({ Condition: { StringEquals: { [sub]: 'system:serviceaccount:team:app' } } })),
      want: true,
    },
    {
      name: 'condition keys of another issuer',
      doc: doc(
        stmt({
          Condition: {
            StringEquals: { 'other.example.com:sub': 'system:serviceaccount:team:app', 'other.example.com:aud': 'sts.amazonaws.com' },
          },
        }),
      ),
      want: false,
    },
    { name: 'no Condition: every token of the provider', doc: doc(stmt({ Condition: undefined })), want: true },
    { name: 'Deny', doc: doc(stmt({ Effect: 'Deny' })), want: false },
    { name: 'missing Federated', doc: doc(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:root' } })), want: false },
    { name: 'Principal "*"', doc: doc(stmt({ Principal: '*' })), want: true },
    {
      name: 'a Deny of another ServiceAccount',
      doc: doc(stmt(), stmt({ Effect: 'Deny', Condition: { StringEquals: { [sub]: 'system:serviceaccount:team:other' } } })),
      want: true,
    },
    {
      name: 'a Deny of sts:AssumeRole only',
      doc: doc(stmt(), stmt({ Effect: 'Deny', Action: 'sts:AssumeRole', Condition: undefined })),
      want: true,
    },
    {
      name: 'another provider',
      doc: doc(stmt({ Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/other.example.com' } })),
      want: false,
    },
    { name: 'another action', doc: doc(stmt({ Action: 'sts:AssumeRole' })), want: false },
    { name: 'no statements', doc: { Version: '2012-10-17' }, want: false },
    { name: 'statement that is not an object', doc: doc('Allow'), want: false },
  ];
  for (const tc of cases) {
    it(`${tc.want ? 'allows' : 'refuses'}: ${tc.name}`, () => {
      assert.equal(admits(tc.doc), tc.want);
    });
  }

  // IAM evaluates an explicit Deny before any Allow: a Deny for this very subject means the
  // ServiceAccount cannot assume the role, whatever another statement allows.
  it('refuses when a Deny statement matches the same subject', () => {
    assert.equal(admits(doc(stmt(), stmt({ Effect: 'Deny' }))), false);
  });

  it('refuses another audience than the one asked for', () => {
    assert.equal(admits(buildTrustPolicy(s), subject({ audience: 'other' })), false);
  });
  it('refuses another namespace', () => {
    assert.equal(admits(buildTrustPolicy(s), subject({ namespace: 'other' })), false);
  });

  it('says why: the deciding statement, or what to add', () => {
    const role = 'arn:aws:iam::123456789012:role/app';
    assert.match(
      judgeTrust(buildTrustPolicy(s), role, s).message,
      /^the trust policy of .*role\/app admits a token for system:serviceaccount:team:app with audience sts.amazonaws.com from .* \(statement 0\)$/,
    );
    assert.match(
      judgeTrust(doc(stmt(), stmt({ Sid: 'Stop', Effect: 'Deny' })), role, s).message,
      /^statement "Stop" of the trust policy of .* denies a token/,
    );
    assert.match(
      judgeTrust(doc(), role, s).message,
      /^no statement of the trust policy .* allows .*: add an Allow statement for sts:AssumeRoleWithWebIdentity/,
    );
  });
});

describe('the EKS Pod Identity trust', () => {
  const CLUSTER = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';
  const ROLE = 'arn:aws:iam::123456789012:role/prod.team.app';
  const pod: PodIdentitySubject = {
    clusterArn: CLUSTER,
    account: '123456789012',
    namespace: 'team',
    serviceAccountName: 'app',
    sessionTags: true,
  };

  it('admits what EKS sends for the ServiceAccount: sts:AssumeRole and sts:TagSession as pods.eks.amazonaws.com', () => {
    assert.equal(judgePodIdentityTrust(trustPolicyFor({ pod }), ROLE, pod).admitted, true);
  });

  it('is pinned by the session tags: another namespace, ServiceAccount or cluster is refused', () => {
    const doc = trustPolicyFor({ pod });
    for (const other of [
      { ...pod, namespace: 'other' },
      { ...pod, serviceAccountName: 'other' },
      { ...pod, clusterArn: CLUSTER.replace('/prod', '/staging') },
      { ...pod, clusterArn: CLUSTER.replace('123456789012', '210987654321'), account: '210987654321' },
    ]) {
      assert.equal(judgePodIdentityTrust(doc, ROLE, other).admitted, false, JSON.stringify(other));
    }
  });

  it('without session tags, pins the cluster by aws:SourceArn and aws:SourceAccount', () => {
    const untagged = { ...pod, sessionTags: false };
    const doc = trustPolicyFor({ pod: untagged });
    assert.deepEqual(asArray(doc.Statement)[0], {
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { StringEquals: { 'aws:SourceArn': CLUSTER, 'aws:SourceAccount': '123456789012' } },
    });
    assert.equal(judgePodIdentityTrust(doc, ROLE, untagged).admitted, true);
    assert.equal(judgePodIdentityTrust(doc, ROLE, { ...untagged, clusterArn: CLUSTER.replace('/prod', '/staging') }).admitted, false);
  });

  it('needs sts:TagSession as well as sts:AssumeRole', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [{ ...(asArray(trustPolicyFor({ pod }).Statement)[0] as object), Action: 'sts:AssumeRole' }],
    };
    const judged = judgePodIdentityTrust(doc, ROLE, pod);
    assert.equal(judged.admitted, false);
    assert.match(judged.message, /sts:TagSession/);
  });

  it('Both: one statement per path, each judged for its own caller', () => {
    const s = subject();
    const doc = trustPolicyFor({ irsa: s, pod });
    assert.equal(asArray(doc.Statement).length, 2);
    assert.equal(judgePaths(doc, ROLE, { irsa: s, pod }).admitted, true);
    assert.equal(judgePaths(trustPolicyFor({ irsa: s }), ROLE, { irsa: s, pod }).admitted, false);
    assert.equal(judgePaths(trustPolicyFor({ pod }), ROLE, { irsa: s, pod }).admitted, false);
    // Another cluster's IRSA statement stays with Pod Identity: its tokens are judged too.
    const other = subject({ oidcProviderArn: `${PROVIDER}-other`, issuerHostPath: `${ISSUER}-other` });
    assert.equal(judgePaths(trustPolicyFor({ others: [other], pod }), ROLE, { others: [other], pod }).admitted, true);
    assert.equal(judgePaths(trustPolicyFor({ pod }), ROLE, { others: [other], pod }).admitted, false);
    // An IRSA token is not admitted by the Pod Identity statement, nor EKS by the IRSA one.
    assert.equal(judgeTrust(trustPolicyFor({ pod }), ROLE, s).admitted, false);
    assert.equal(judgePodIdentityTrust(trustPolicyFor({ irsa: s }), ROLE, pod).admitted, false);
  });
});

describe("subjectEscape: the Pod Identity statement stays in the object's namespace", () => {
  const pod: PodIdentitySubject = {
    clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
    account: '123456789012',
    namespace: 'team',
    serviceAccountName: 'app',
    sessionTags: true,
  };
  it('admits the statement the operator writes, with or without session tags', () => {
    assert.equal(subjectEscape(trustPolicyFor({ irsa: subject(), pod }), 'team', ISSUER), undefined);
    assert.equal(subjectEscape(trustPolicyFor({ pod: { ...pod, sessionTags: false } }), 'team', ISSUER), undefined);
  });
  it('refuses one of another namespace, or one that pins nothing', () => {
    assert.match(subjectEscape(trustPolicyFor({ pod: { ...pod, namespace: 'other' } }), 'team', ISSUER) ?? '', /outside team/);
    const open = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    assert.match(subjectEscape(open, 'team', ISSUER) ?? '', /pins neither/);
  });
});
