// evaluatePolicy: IAM's decision for one request against a trust policy. Hand cases for the
// documents people write for IRSA, then a table of documents and requests decided both by
// evaluatePolicy and by @cloud-copilot/iam-simulate (AGPL-3.0, a dev-only oracle).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../../src/policy/document.ts';
import { evaluatePolicy, type PolicyRequest } from '../../../src/policy/evaluate.ts';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const EKS_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789';
const ACTION = 'sts:AssumeRoleWithWebIdentity';

const providerArn = (issuer: string, account = ACCOUNT) => `arn:aws:iam::${account}:oidc-provider/${issuer}`;
const sub = (ns: string, sa: string) => `system:serviceaccount:${ns}:${sa}`;

interface Token {
  issuer?: string;
  sub?: string;
  aud?: string;
  extra?: Record<string, string | string[]>;
}

function request(t: Token = {}): PolicyRequest {
  const issuer = t.issuer ?? EKS_ISSUER;
  return {
    principal: providerArn(issuer),
    principalType: 'Federated',
    action: ACTION,
    resource: ROLE,
    context: { [`${issuer}:sub`]: t.sub ?? sub('default', 'app'), [`${issuer}:aud`]: t.aud ?? 'sts.amazonaws.com', ...t.extra },
  };
}

/** One Allow statement for the provider; `over` replaces elements, and an undefined one removes it. */
function trust(condition: Record<string, unknown> | undefined, over: Record<string, unknown> = {}, issuer = EKS_ISSUER): PolicyDocument {
  const statement = { Effect: 'Allow', Principal: { Federated: providerArn(issuer) }, Action: ACTION, Condition: condition, ...over };
  return { Version: '2012-10-17', Statement: [Object.fromEntries(Object.entries(statement).filter(([, v]) => v !== undefined))] };
}

const allowed = (doc: PolicyDocument, t: Token = {}) => evaluatePolicy(doc, request(t)).effect === 'Allow';
const K = (key: string) => `${EKS_ISSUER}:${key}`;

describe('evaluatePolicy: the trust documents people write', () => {
  it('the operator-built document: exactly one ServiceAccount and audience', () => {
    const doc = trust({ StringEquals: { [K('sub')]: sub('default', 'app'), [K('aud')]: 'sts.amazonaws.com' } });
    assert.equal(allowed(doc), true);
    assert.equal(allowed(doc, { sub: sub('default', 'other') }), false);
    assert.equal(allowed(doc, { aud: 'test' }), false);
    assert.equal(allowed(doc, { issuer: 'oidc.eks.eu-west-1.amazonaws.com/id/OTHER' }), false);
  });

  it('sub only (no aud condition): admitted for that ServiceAccount whatever the audience', () => {
    const doc = trust({ StringEquals: { [K('sub')]: sub('default', 'app') } });
    assert.equal(allowed(doc, { aud: 'anything' }), true);
    assert.equal(allowed(doc, { sub: sub('default', 'other') }), false);
  });

  it('StringLike namespace wildcard: every ServiceAccount of the namespace', () => {
    const doc = trust({ StringLike: { [K('sub')]: 'system:serviceaccount:default:*' }, StringEquals: { [K('aud')]: 'sts.amazonaws.com' } });
    assert.equal(allowed(doc, { sub: sub('default', 'app') }), true);
    assert.equal(allowed(doc, { sub: sub('default', 'worker') }), true);
    assert.equal(allowed(doc, { sub: sub('kube-system', 'app') }), false);
  });

  it('StringEquals listing two ServiceAccounts: either one', () => {
    const doc = trust({ StringEquals: { [K('sub')]: [sub('default', 'app'), sub('jobs', 'batch')] } });
    assert.equal(allowed(doc, { sub: sub('default', 'app') }), true);
    assert.equal(allowed(doc, { sub: sub('jobs', 'batch') }), true);
    assert.equal(allowed(doc, { sub: sub('jobs', 'app') }), false);
  });

  it('aud only, as a cross-account role shared by a cluster: any ServiceAccount with the audience', () => {
    const doc = trust({ StringEquals: { [K('aud')]: 'sts.amazonaws.com' } });
    assert.equal(allowed(doc, { sub: sub('any', 'thing') }), true);
    assert.equal(allowed(doc, { aud: 'test' }), false);
  });

  it('a Deny on sts that covers another ServiceAccount only does not block this one', () => {
    const doc: PolicyDocument = {
      Statement: [
        ...(trust({ StringLike: { [K('sub')]: 'system:serviceaccount:*' } }).Statement as unknown[]),
        {
          Sid: 'NoJobs',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sts:*',
          Condition: { StringLike: { [K('sub')]: 'system:serviceaccount:jobs:*' } },
        },
      ],
    };
    assert.deepEqual(evaluatePolicy(doc, request()), { effect: 'Allow', statement: '0' });
    assert.deepEqual(evaluatePolicy(doc, request({ sub: sub('jobs', 'x') })), { effect: 'ExplicitDeny', statement: '"NoJobs"' });
  });

  it('a Deny of another action or another principal does not block', () => {
    const base = trust({ StringEquals: { [K('sub')]: sub('default', 'app') } }).Statement as unknown[];
    const otherAction = { Statement: [...base, { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' }] };
    const otherPrincipal = {
      Statement: [...base, { Effect: 'Deny', Principal: { Federated: providerArn('other.example.com') }, Action: 'sts:*' }],
    };
    assert.equal(allowed(otherAction), true);
    assert.equal(allowed(otherPrincipal), true);
  });

  it('NotPrincipal, NotAction and NotResource', () => {
    const notPrincipal: PolicyDocument = {
      Statement: [{ Effect: 'Allow', NotPrincipal: { Federated: providerArn('x.example.com') }, Action: ACTION }],
    };
    assert.equal(allowed(notPrincipal), true);
    const notPrincipalUs: PolicyDocument = {
      Statement: [{ Effect: 'Allow', NotPrincipal: { Federated: providerArn(EKS_ISSUER) }, Action: ACTION }],
    };
    assert.equal(allowed(notPrincipalUs), false);
    assert.equal(allowed(trust(undefined, { Action: undefined, NotAction: 'sts:AssumeRole' })), true);
    assert.equal(allowed(trust(undefined, { Action: undefined, NotAction: 'sts:*' })), false);
    assert.equal(allowed(trust(undefined, { NotResource: `arn:aws:iam::${ACCOUNT}:role/other` })), true);
    assert.equal(allowed(trust(undefined, { Resource: `arn:aws:iam::${ACCOUNT}:role/other` })), false);
  });

  it('names the deciding statement, and an implicit deny', () => {
    assert.deepEqual(evaluatePolicy({ Statement: [] }, request()), { effect: 'ImplicitDeny' });
    assert.deepEqual(evaluatePolicy(trust(undefined, { Sid: 'Pods' }), request()), { effect: 'Allow', statement: '"Pods"' });
  });

  it('condition keys are case-insensitive; values are not (except IgnoreCase)', () => {
    const upperKey = trust({ StringEquals: { [K('SUB').replace(':SUB', ':Sub')]: sub('default', 'app') } });
    assert.equal(allowed(upperKey), true);
    assert.equal(allowed(trust({ StringEquals: { [K('sub')]: sub('default', 'APP') } })), false);
    assert.equal(allowed(trust({ StringEqualsIgnoreCase: { [K('sub')]: sub('default', 'APP') } })), true);
  });
});

describe('evaluatePolicy: operators and set modifiers', () => {
  // [operator, policy value(s), context value (undefined: key absent), expected]
  const ctxKey = 'test:key';
  const cases: [string, string | string[], string | string[] | undefined, boolean][] = [
    ['StringEquals', 'a', 'a', true],
    ['StringEquals', 'a', 'b', false],
    ['StringEquals', 'a', undefined, false],
    ['StringNotEquals', 'a', 'b', true],
    ['StringNotEquals', 'a', 'a', false],
    ['StringNotEquals', 'a', undefined, true],
    ['StringEqualsIgnoreCase', 'ABC', 'abc', true],
    ['StringNotEqualsIgnoreCase', 'ABC', 'abc', false],
    ['StringLike', 'a*c', 'abbbc', true],
    ['StringLike', 'a?c', 'abbc', false],
    ['StringNotLike', 'a*', 'bcd', true],
    ['StringNotLike', 'a*', undefined, true],
    ['StringEqualsIfExists', 'a', undefined, true],
    ['StringEqualsIfExists', 'a', 'b', false],
    ['StringNotEqualsIfExists', 'a', 'a', false],
    ['NumericEquals', '10', '10', true],
    ['NumericNotEquals', '10', '11', true],
    ['NumericLessThan', '10', '9', true],
    ['NumericLessThanEquals', '10', '10', true],
    ['NumericGreaterThan', '10', '10', false],
    ['NumericGreaterThanEquals', '10', '10', true],
    ['NumericEquals', '10', 'ten', false],
    ['DateLessThan', '2030-01-01T00:00:00Z', '2026-11-27T00:00:00Z', true],
    ['DateGreaterThan', '2030-01-01T00:00:00Z', '2026-11-27T00:00:00Z', false],
    ['DateEquals', '1700000000', '2023-11-14T22:13:20Z', true],
    ['DateNotEquals', '2020-01-01T00:00:00Z', '2026-11-27T00:00:00Z', true],
    ['DateLessThanEquals', '2026-11-27T00:00:00Z', '2026-11-27T00:00:00Z', true],
    ['DateGreaterThanEquals', '2026-11-28T00:00:00Z', '2026-11-27T00:00:00Z', false],
    ['Bool', 'true', 'true', true],
    ['Bool', 'true', 'false', false],
    ['Bool', 'true', undefined, false],
    ['BinaryEquals', 'QmluYXJ5', 'QmluYXJ5', true],
    ['IpAddress', '10.0.0.0/8', '10.1.2.3', true],
    ['IpAddress', '10.0.0.0/8', '192.168.0.1', false],
    ['IpAddress', '2001:db8::/32', '2001:db8::1', true],
    ['IpAddress', '10.0.0.1', '10.0.0.1', true],
    ['NotIpAddress', '10.0.0.0/8', '192.168.0.1', true],
    ['NotIpAddress', '10.0.0.0/8', undefined, true],
    ['ArnEquals', 'arn:aws:iam::*:role/x', 'arn:aws:iam::1:role/x', true],
    ['ArnLike', 'arn:aws:iam::1:role/*', 'arn:aws:iam::1:user/x', false],
    ['ArnNotEquals', 'arn:aws:iam::1:role/x', 'arn:aws:iam::1:role/y', true],
    ['ArnNotLike', 'arn:aws:iam::1:role/*', 'arn:aws:iam::1:role/y', false],
    ['Null', 'true', undefined, true],
    ['Null', 'true', 'a', false],
    ['Null', 'false', 'a', true],
    ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'b'], true],
    ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'y'], false],
    ['ForAnyValue:StringEquals', ['a'], undefined, false],
    ['ForAnyValue:StringNotEquals', ['a'], ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', ['a'], ['a'], false],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'c'], false],
    ['ForAllValues:StringEquals', ['a'], undefined, true],
    ['ForAllValues:StringNotEquals', ['a'], ['b', 'c'], true],
    ['ForAllValues:StringNotEquals', ['a'], ['a', 'c'], false],
    ['ForAllValues:StringLike', ['a*'], ['ab', 'ac'], true],
    ['ForAnyValue:StringEqualsIfExists', ['a'], undefined, true],
    ['StringEquals', ['a'], ['x', 'a'], true],
    ['StringNotEquals', ['a'], ['x', 'a'], false],
    ['NoSuchOperator', 'a', 'a', false],
  ];
  for (const [operator, policyValue, contextValue, want] of cases) {
    it(`${operator} ${JSON.stringify(policyValue)} vs ${JSON.stringify(contextValue) ?? 'absent'}: ${String(want)}`, () => {
      const doc = trust({ [operator]: { [ctxKey]: policyValue } });
      assert.equal(allowed(doc, { extra: contextValue === undefined ? {} : { [ctxKey]: contextValue } }), want);
    });
  }

  it('every condition of a block must hold (operators and keys), any value of a key may', () => {
    const doc = trust({
      StringEquals: { [K('aud')]: ['x', 'sts.amazonaws.com'], [K('sub')]: sub('default', 'app') },
      StringLike: { 'test:key': 'v*' },
    });
    assert.equal(allowed(doc, { extra: { 'test:key': 'value' } }), true);
    assert.equal(allowed(doc, { extra: { 'test:key': 'other' } }), false);
  });

  it('substitutes policy variables from the context, and a missing one matches nothing', () => {
    const doc = trust({ StringEquals: { [K('sub')]: 'system:serviceaccount:${test:ns}:app' } });
    assert.equal(allowed(doc, { extra: { 'test:ns': 'default' } }), true);
    assert.equal(allowed(doc, { extra: { 'test:ns': 'other' } }), false);
    assert.equal(allowed(doc), false);
    assert.equal(allowed(trust({ StringEquals: { [K('sub')]: "system:serviceaccount:${test:ns, 'default'}:app" } })), true);
    assert.equal(
      allowed(trust({ StringLike: { [K('sub')]: 'system:serviceaccount:default:${*}' } }), { sub: 'system:serviceaccount:default:*' }),
      true,
    );
  });

  it('a malformed Condition or Statement admits nothing', () => {
    assert.equal(allowed(trust({ StringEquals: 'x' })), false);
    assert.equal(allowed({ Statement: ['x', null] }), false);
    assert.equal(allowed({ Statement: [{ Effect: 'Allow', Action: ACTION }] }), false, 'no Principal');
  });
});

describe('evaluatePolicy agrees with iam-simulate', () => {
  // iam-simulate knows the condition keys IAM documents for sts:AssumeRoleWithWebIdentity; an
  // EKS issuer (with a path) is not among them, accounts.google.com is. The keys are opaque to
  // both evaluators, so the table uses that issuer.
  const ISS = 'accounts.google.com';
  const k = (key: string) => `${ISS}:${key}`;
  // A multi-valued key the oracle types as one (cognito's amr it takes as single-valued).
  const AMR = 'aws:TagKeys';
  const conditions: Record<string, unknown>[] = [
    { StringEquals: { [k('sub')]: sub('default', 'app'), [k('aud')]: 'sts.amazonaws.com' } },
    { StringEquals: { [k('sub')]: sub('default', 'app') } },
    { StringEquals: { [k('aud')]: 'sts.amazonaws.com' } },
    { StringEquals: { [k('sub')]: [sub('default', 'app'), sub('jobs', 'batch')] } },
    { StringLike: { [k('sub')]: 'system:serviceaccount:default:*' } },
    { StringLike: { [k('sub')]: 'system:serviceaccount:*:app' } },
    { StringLike: { [k('sub')]: 'system:serviceaccount:default:a??' } },
    { StringNotEquals: { [k('sub')]: sub('jobs', 'batch') } },
    { StringNotLike: { [k('sub')]: 'system:serviceaccount:kube-system:*' } },
    { StringEqualsIgnoreCase: { [k('sub')]: 'SYSTEM:SERVICEACCOUNT:DEFAULT:APP' } },
    { StringNotEqualsIgnoreCase: { [k('aud')]: 'STS.AMAZONAWS.COM' } },
    { StringEqualsIfExists: { [k('email')]: 'a@example.com' } },
    { StringNotEqualsIfExists: { [k('email')]: 'a@example.com' } },
    { StringEquals: { [k('email')]: 'a@example.com' } },
    { StringNotEquals: { [k('email')]: 'a@example.com' } },
    { Null: { [k('email')]: 'true' } },
    { Null: { [k('sub')]: 'true' } },
    { Null: { [k('sub')]: 'false' } },
    { 'ForAnyValue:StringEquals': { [AMR]: ['authenticated', 'x'] } },
    { 'ForAnyValue:StringEquals': { [AMR]: ['unauthenticated'] } },
    { 'ForAllValues:StringEquals': { [AMR]: ['authenticated', 'cognito'] } },
    { 'ForAllValues:StringEquals': { [AMR]: ['authenticated'] } },
    { 'ForAnyValue:StringLike': { [AMR]: ['auth*'] } },
    { 'ForAllValues:StringLike': { [AMR]: ['*'] } },
    { 'ForAnyValue:StringNotEquals': { [AMR]: ['authenticated'] } },
    { 'ForAllValues:StringNotEquals': { [AMR]: ['unauthenticated'] } },
    { 'ForAllValues:StringNotLike': { [AMR]: ['auth*'] } },
    { NumericLessThan: { 'aws:EpochTime': '1900000000' } },
    { NumericGreaterThan: { 'aws:EpochTime': '1900000000' } },
    { NumericEquals: { 'aws:EpochTime': '1795000000' } },
    { NumericNotEquals: { 'aws:EpochTime': '1795000000' } },
    { NumericLessThanEquals: { 'aws:EpochTime': '1795000000' } },
    { NumericGreaterThanEquals: { 'aws:EpochTime': '1795000001' } },
    { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
    { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
    { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-27T00:00:00Z' } },
    { DateNotEquals: { 'aws:CurrentTime': '2026-11-27T00:00:00Z' } },
    { Bool: { 'aws:SecureTransport': 'true' } },
    { Bool: { 'aws:SecureTransport': 'false' } },
    { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } },
    { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    { IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } },
    { NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } },
    { NotIpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } },
    { ArnLike: { 'aws:SourceArn': 'arn:aws:eks:*:123456789012:cluster/*' } },
    { ArnNotLike: { 'aws:SourceArn': 'arn:aws:eks:*:123456789012:cluster/*' } },
    { StringLike: { [k('sub')]: 'system:serviceaccount:default:*' }, StringEquals: { [k('aud')]: 'sts.amazonaws.com' } },
    { StringLike: { [k('sub')]: 'system:serviceaccount:default:*' }, StringNotEquals: { [k('sub')]: sub('default', 'app') } },
    { StringEquals: { [k('sub')]: 'system:serviceaccount:${aws:PrincipalTag/ns}:app' } },
  ];
  const docs: { name: string; doc: PolicyDocument }[] = [
    ...conditions.map((c) => ({ name: JSON.stringify(c), doc: trust(c, {}, ISS) })),
    { name: 'NotAction sts:AssumeRole', doc: trust(undefined, { Action: undefined, NotAction: 'sts:AssumeRole' }, ISS) },
    { name: 'Action sts:*', doc: trust(undefined, { Action: 'sts:*' }, ISS) },
    { name: 'Action sts:AssumeRole only', doc: trust(undefined, { Action: 'sts:AssumeRole' }, ISS) },
    { name: 'Principal *', doc: { Statement: [{ Effect: 'Allow', Principal: '*', Action: ACTION }] } },
    {
      name: 'Principal another provider',
      doc: { Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn('x.example.com') }, Action: ACTION }] },
    },
    {
      name: 'Allow, then a Deny of this ServiceAccount',
      doc: {
        Statement: [
          { Effect: 'Allow', Principal: { Federated: providerArn(ISS) }, Action: ACTION },
          { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { StringEquals: { [k('sub')]: sub('default', 'app') } } },
        ],
      },
    },
    {
      name: 'Allow, then a Deny of other namespaces',
      doc: {
        Statement: [
          { Effect: 'Allow', Principal: { Federated: providerArn(ISS) }, Action: ACTION },
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 'sts:*',
            Condition: { StringNotLike: { [k('sub')]: 'system:serviceaccount:default:*' } },
          },
        ],
      },
    },
  ];
  const tokens: { name: string; sub: string; aud: string; amr?: string[] }[] = [
    { name: 'default/app', sub: sub('default', 'app'), aud: 'sts.amazonaws.com', amr: ['authenticated', 'cognito'] },
    { name: 'jobs/batch, audience test', sub: sub('jobs', 'batch'), aud: 'test', amr: ['unauthenticated'] },
    { name: 'default/abc, no amr', sub: sub('default', 'abc'), aud: 'sts.amazonaws.com' },
  ];
  const context = (t: (typeof tokens)[number]): Record<string, string | string[]> => ({
    [k('sub')]: t.sub,
    [k('aud')]: t.aud,
    ...(t.amr ? { [AMR]: t.amr } : {}),
    'aws:EpochTime': '1795000000',
    'aws:CurrentTime': '2026-11-27T10:00:00Z',
    'aws:SecureTransport': 'true',
    'aws:SourceIp': '10.1.2.3',
    'aws:SourceArn': 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
  });

  async function oracle(doc: PolicyDocument, ctx: Record<string, string | string[]>): Promise<boolean> {
    const resourcePolicy: unknown = doc;
    const simulation: Simulation = {
      request: { principal: providerArn(ISS), action: ACTION, resource: { resource: ROLE, accountId: ACCOUNT }, contextVariables: ctx },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // Typed `any` by the library; the document is plain JSON.
      resourcePolicy,
    };
    const out = await runSimulation(simulation, {});
    if (out.resultType === 'error') throw new Error(`iam-simulate refused the case: ${JSON.stringify(out.errors)}`);
    if (out.resultType === 'single' && out.result.ignoredContextKeys?.length)
      throw new Error(`iam-simulate ignored ${out.result.ignoredContextKeys.join(', ')}`);
    return out.overallResult === 'Allowed';
  }

  it('covers at least 50 documents', () => assert.ok(docs.length >= 50, `${docs.length}`));

  for (const { name, doc } of docs) {
    it(name, async () => {
      for (const t of tokens) {
        const ctx = context(t);
        const ours = evaluatePolicy(doc, {
          principal: providerArn(ISS),
          principalType: 'Federated',
          action: ACTION,
          resource: ROLE,
          context: ctx,
        });
        assert.equal(ours.effect === 'Allow', await oracle(doc, ctx), `token ${t.name}: evaluatePolicy says ${ours.effect}`);
      }
    });
  }
});
