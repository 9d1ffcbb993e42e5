// One role trusted by several clusters, and subject patterns, against kube-apiserver and moto.
// A two-cluster role waits for the other cluster's OIDC provider, then becomes Ready; its trust,
// read back from IAM, admits a token of this cluster (minted by the apiserver) and the claims of
// the other cluster's token, and refuses a third issuer (judged by src/policy/evaluate.ts: moto
// judges no trust). An oversize trust is caught before any IAM write (the AWS proxy's call log).
// A subject pattern becomes Ready, with the named ServiceAccount annotated; the escapes are refused
// by the API server, and a namespace not allowed to use patterns by the operator. Ends with:
//   multicluster: multi_cluster_ready=N oversize_caught=N pattern_ready=N escapes_refused=N
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import type { Operator } from '../../src/operator.ts';
import { issuerHostPath, oidcProviderArn } from '../../src/policy/arn.ts';
import { parsePolicyDocumentOrEmpty, type PolicyDocument } from '../../src/policy/document.ts';
import { judgeTrust } from '../../src/policy/trust-check.ts';
import { createOidcProvider } from '../env/cluster.ts';
import { recordFigures } from '../env/figures.ts';
import {
  applyIamsa,
  awsCalls,
  env,
  getIamsa,
  getJson,
  iam,
  isWrite,
  kubectl,
  kubectlResult,
  newNamespace,
  resetAws,
  startOperator,
  TEST_ISSUER,
  waitForCondition,
} from './helpers.ts';

const ACCOUNT = '123456789012';
const OTHER = 'https://oidc.eks.us-west-2.amazonaws.com/id/B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0';
const THIRD = 'https://oidc.eks.ap-south-1.amazonaws.com/id/C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0';
/** Four more clusters the platform team trusts: with this one and OTHER, too many for 2,048 characters. */
const MANY = Array.from({ length: 4 }, (_, i) => `https://oidc.eks.eu-central-1.amazonaws.com/id/${String(i).repeat(32)}`);

const tally = { multi_cluster_ready: 0, oversize_caught: 0, pattern_ready: 0, escapes_refused: 0 };
let ns: string;
let other: string;
let op: Operator;

before(async () => {
  await resetAws();
  ns = await newNamespace('multi');
  other = await newNamespace('multi-other');
  op = await startOperator({
    watchNamespaces: [ns, other],
    allowedIssuers: [OTHER, ...MANY],
    subjectPatternNamespaces: [ns],
  });
});

after(async () => {
  await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  await kubectl(['delete', '-n', other, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  await op.stop();
  recordFigures(env().dir, 'multicluster', tally);
  console.log(
    `multicluster: ${Object.entries(tally)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
});

/** The claims of a JWT, unverified. */
function claims(jwt: string): { aud: string[]; sub: string; iss: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as ReturnType<typeof claims>;
}

async function trustOf(roleName: string): Promise<PolicyDocument> {
  const role = (await iam().send(new GetRoleCommand({ RoleName: roleName }))).Role;
  return parsePolicyDocumentOrEmpty(role?.AssumeRolePolicyDocument ?? '');
}

/** IAM's verdict (src/policy/evaluate.ts) on a token with these claims, asking through its issuer's provider. */
function admits(doc: PolicyDocument, roleArn: string, c: { iss: string; sub: string; aud: string }): boolean {
  const [, namespace = '', serviceAccountName = ''] = /^system:serviceaccount:([^:]+):(.+)$/.exec(c.sub) ?? [];
  const hostPath = issuerHostPath(c.iss);
  return judgeTrust(doc, roleArn, {
    oidcProviderArn: oidcProviderArn('aws', ACCOUNT, hostPath),
    issuerHostPath: hostPath,
    namespace,
    serviceAccountName,
    audience: c.aud,
  }).admitted;
}

/** A token this cluster's apiserver mints for a ServiceAccount, as its claims. */
async function tokenClaims(namespace: string, sa: string): Promise<{ iss: string; sub: string; aud: string }> {
  const jwt = (await kubectl(['create', 'token', sa, '-n', namespace, '--audience', 'sts.amazonaws.com', '--duration=600s'])).trim();
  const c = claims(jwt);
  return { iss: c.iss, sub: c.sub, aud: c.aud[0] ?? '' };
}

it("a two-cluster role waits for the other cluster's provider, then admits a token from each issuer and refuses a third", async () => {
  const callsBefore = (await awsCalls()).length;
  await applyIamsa(ns, 'shared', { additionalClusters: [{ issuer: OTHER }] });
  const waiting = await waitForCondition(ns, 'shared', 'Ready', 'False', 'OIDCProviderNotFound');
  const providerArn = oidcProviderArn('aws', ACCOUNT, issuerHostPath(OTHER));
  assert.match(
    waiting.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
    new RegExp(`IAM has no OIDC provider ${providerArn}`),
  );
  assert.deepEqual((await awsCalls()).slice(callsBefore).filter(isWrite), [], 'nothing is written while a provider is missing');

  await createOidcProvider(env().motoUrl, OTHER);
  // The operator looks again after its wait (15 s); any change to the object is seen at once.
  await kubectl(['annotate', '-n', ns, 'iamsa', 'shared', 'irsa.dev/nudge=provider-created']);
  const ready = await waitForCondition(ns, 'shared', 'Ready', 'True');
  const trustVerified = ready.status?.conditions?.find((c) => c.type === 'TrustVerified');
  assert.equal(trustVerified?.status, 'True');
  assert.match(
    trustVerified?.message ?? '',
    new RegExp(`tokens of the other clusters: system:serviceaccount:${ns}:shared from ${issuerHostPath(OTHER)}`),
  );
  const roleArn = ready.status?.roleARN ?? '';
  const doc = await trustOf(ready.status?.roleName ?? '');
  assert.equal((doc.Statement as unknown[]).length, 2);

  // A token minted by this cluster's apiserver for the ServiceAccount.
  const own = await tokenClaims(ns, 'shared');
  assert.equal(own.iss, TEST_ISSUER);
  assert.equal(admits(doc, roleArn, own), true, 'a token of this cluster');
  // The same ServiceAccount's token in the other cluster carries these claims (its apiserver is not
  // run here; IAM's rules judge claims, the signature is STS's business).
  assert.equal(admits(doc, roleArn, { ...own, iss: OTHER }), true, 'a token of the other cluster');
  assert.equal(admits(doc, roleArn, { ...own, iss: THIRD }), false, 'a token of a third cluster');
  assert.equal(admits(doc, roleArn, { ...own, iss: OTHER, sub: `system:serviceaccount:${ns}:intruder` }), false, 'another ServiceAccount');
  assert.equal(admits(doc, roleArn, { ...own, iss: OTHER, sub: `system:serviceaccount:${other}:shared` }), false, 'another namespace');
  const sa = await getJson<{ metadata: { annotations?: Record<string, string> } }>(['-n', ns, 'get', 'serviceaccount', 'shared']);
  assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], roleArn);
  tally.multi_cluster_ready++;
});

it('an oversize trust is caught before any IAM write', async () => {
  const callsBefore = (await awsCalls()).length;
  await applyIamsa(ns, 'too-many', { additionalClusters: [OTHER, ...MANY].map((issuer) => ({ issuer })) });
  const obj = await waitForCondition(ns, 'too-many', 'Stalled', 'True', 'TrustPolicyTooLarge');
  const message = obj.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
  assert.match(
    message,
    /^the trust policy would be \d+ characters \(as IAM counts them, without white space\), over the limit of 2048 \(trustPolicyLimit\)/,
  );
  assert.match(message, /list fewer clusters in spec\.additionalClusters \(6 statements/);
  assert.match(message, /subjectPattern/);
  assert.match(message, /Role trust policy length/);
  const calls = (await awsCalls()).slice(callsBefore);
  assert.deepEqual(calls.filter(isWrite), [], 'no IAM write');
  assert.deepEqual(calls, [], 'not even a read: the size is known from the spec');
  const roles = await iam()
    .send(new GetRoleCommand({ RoleName: `local.${ns}.too-many` }))
    .then(
      () => true,
      () => false,
    );
  assert.equal(roles, false);
  tally.oversize_caught++;
});

it('a subject pattern: Ready, the named ServiceAccount annotated, every ServiceAccount it names admitted and no other', async () => {
  await kubectl(['create', 'serviceaccount', '-n', ns, 'ci-other']);
  await kubectl(['create', 'serviceaccount', '-n', ns, 'app']);
  await kubectl(['create', 'serviceaccount', '-n', other, 'ci-runner']);
  await applyIamsa(ns, 'ci', { serviceAccount: { name: 'ci-runner' }, subjectPattern: 'ci-*' });
  const ready = await waitForCondition(ns, 'ci', 'Ready', 'True');
  assert.equal(ready.status?.serviceAccountName, 'ci-runner');
  await waitForCondition(ns, 'ci', 'TrustVerified', 'True', 'TrustAdmitsServiceAccount');
  const roleArn = ready.status?.roleARN ?? '';
  const annotated = await getJson<{ metadata: { annotations?: Record<string, string> } }>(['-n', ns, 'get', 'serviceaccount', 'ci-runner']);
  assert.equal(annotated.metadata.annotations?.['eks.amazonaws.com/role-arn'], roleArn);
  const untouched = await getJson<{ metadata: { annotations?: Record<string, string> } }>(['-n', ns, 'get', 'serviceaccount', 'ci-other']);
  assert.equal(untouched.metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined, 'only the named ServiceAccount is annotated');

  const doc = await trustOf(ready.status?.roleName ?? '');
  assert.equal(admits(doc, roleArn, await tokenClaims(ns, 'ci-runner')), true);
  assert.equal(admits(doc, roleArn, await tokenClaims(ns, 'ci-other')), true, 'the pattern admits ci-other');
  assert.equal(admits(doc, roleArn, await tokenClaims(ns, 'app')), false, 'app does not match ci-*');
  assert.equal(admits(doc, roleArn, await tokenClaims(other, 'ci-runner')), false, 'ci-runner of another namespace');
  const own = await tokenClaims(ns, 'ci-runner');
  assert.equal(admits(doc, roleArn, { ...own, sub: 'system:serviceaccount:kube-system:ci-runner' }), false, 'kube-system');
  tally.pattern_ready++;
});

it('the escapes: refused by the API server, and by the operator where patterns are not allowed', async () => {
  const escapes = ['*:*', '?', 'ci-?', '..', ':', 'kube-system:*', '*:kube-system:*', '../kube-system/*', '${aws:username}', `${other}:*`];
  for (const [i, pattern] of escapes.entries()) {
    const r = await kubectlResult(
      ['apply', '-n', ns, '-f', '-'],
      JSON.stringify({
        apiVersion: 'irsa.dev/v1alpha1',
        kind: 'IamServiceAccount',
        metadata: { name: `escape-${i}` },
        spec: { subjectPattern: pattern },
      }),
    );
    assert.notEqual(r.code, 0, `the API server accepted ${pattern}`);
    assert.match(r.stderr, /spec\.subjectPattern/);
    tally.escapes_refused++;
  }
  // An issuer the platform team does not trust, and a pattern where patterns are not allowed.
  const callsBefore = (await awsCalls()).length;
  await applyIamsa(ns, 'untrusted', { additionalClusters: [{ issuer: THIRD }] });
  await waitForCondition(ns, 'untrusted', 'Stalled', 'True', 'IssuerNotAllowed');
  await applyIamsa(other, 'wide', { subjectPattern: '*' });
  await waitForCondition(other, 'wide', 'Stalled', 'True', 'SubjectPatternNotAllowed');
  assert.deepEqual((await awsCalls()).slice(callsBefore).filter(isWrite), [], 'no IAM write');
  assert.equal((await getIamsa(other, 'wide')).status?.roleARN, undefined);
  tally.escapes_refused += 2;
});
