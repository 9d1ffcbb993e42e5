// Roles in two moto accounts, and the OIDC provider managed by the operator, against an apiserver
// that is its own issuer (test/env/cluster.ts apiserverIssuer: HTTPS with a chain root ->
// intermediate -> server, discovery open to anonymous readers). In the target account the
// operator acts through AssumeRole credentials (moto keys its backends by the account of the
// assumed role); the test reads both accounts from moto directly. Checks: a managed role in the
// target account trusting that account's provider; an attachRoleARN role of the target account
// Ready; an account not configured, and one not open to the namespace, refused before any AWS
// call; the providers created by the operator with the thumbprint computed here from the
// apiserver's chain, and client IDs following the audiences in use; the extra IAM/STS calls of a
// create in the target account. Ends with one line:
//   accounts: accounts=2 cross_account_ready=N providers_created=N thumbprint_ok=1 refused_account_caught=N
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  ListOpenIDConnectProvidersCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { Operator } from '../../src/operator.ts';
import { fetchCalls, type AwsCall } from '../env/aws-proxy.ts';
import { startEnv, TEST_ACCOUNT, type RunningEnv } from '../env/cluster.ts';
import { recordFigures } from '../env/figures.ts';
import {
  applyIamsa,
  decodeDoc,
  env,
  getIamsa,
  iam,
  iamIn,
  kubectl,
  kubectlResult,
  newNamespace,
  startOperator,
  waitForCondition,
  waitGone,
} from './helpers.ts';

const TARGET = '210987654321';
const TARGET_ROLE = `arn:aws:iam::${TARGET}:role/irsa-operator-target`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const tally = { accounts: 2, cross_account_ready: 0, providers_created: 0, thumbprint_ok: 0, refused_account_caught: 0 };

let own: RunningEnv;
let op: Operator;
let ns: string;
let closed: string;
let target: IAMClient;
let issuerHost: string;

/** The run's shared environment, where the figures of the `accounts:` line are gathered (before() replaces IRSA_TESTENV). */
const sharedEnvDir = env().dir;

before(async () => {
  // An environment of its own: the issuer is its apiserver (the global one signs for TEST_ISSUER).
  own = await startEnv((line) => process.stderr.write(`[accounts env] ${line}\n`), { apiserverIssuer: true });
  const { stop: _stop, ...info } = own;
  process.env.IRSA_TESTENV = JSON.stringify(info);
  issuerHost = own.issuer.replace('https://', '');
  target = await iamIn(TARGET);
  // The role the operator assumes in the target account (config/iam/target-account-trust.json's shape).
  await target.send(
    new CreateRoleCommand({
      RoleName: 'irsa-operator-target',
      AssumeRolePolicyDocument: readFileSync(new URL('../../config/iam/target-account-trust.json', import.meta.url), 'utf8')
        .replaceAll('OPERATOR_ROLE_ARN', `arn:aws:iam::${TEST_ACCOUNT}:role/irsa-operator`)
        .replaceAll('EXTERNAL_ID', 'irsa-e2e'),
    }),
  );
  ns = await newNamespace('accounts');
  closed = await newNamespace('accounts-closed');
  op = await startOperator({
    watchNamespaces: [ns, closed],
    manageOidcProvider: true,
    ...(own.issuerCaFile === undefined ? {} : { oidcIssuerCAFile: own.issuerCaFile }),
    accounts: { [TARGET]: { roleArn: TARGET_ROLE, externalId: 'irsa-e2e', allowedNamespaces: [ns] } },
  });
});

after(async () => {
  await op?.stop();
  await own?.stop();
  // The `accounts:` line, with multicluster.test.ts's figures, is printed at the end of the run.
  recordFigures(sharedEnvDir, 'accounts', tally);
});

/** IAM's thumbprint of the apiserver, computed here: SHA-1 of the last certificate it presents below the root. */
async function thumbprintFromChain(): Promise<string> {
  const url = new URL(own.issuer);
  const ca = readFileSync(own.issuerCaFile ?? '', 'utf8');
  const raws = await new Promise<Buffer[]>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca }, () => {
      const out: Buffer[] = [];
      for (let c = socket.getPeerCertificate(true); c.raw !== undefined; c = c.issuerCertificate) {
        out.push(c.raw);
        if (c.issuerCertificate === c || c.issuerCertificate === undefined) break;
      }
      socket.end();
      resolve(out);
    });
    socket.once('error', reject);
  });
  const below = raws.filter((raw) => {
    const cert = new X509Certificate(raw);
    return cert.subject !== cert.issuer;
  });
  return createHash('sha1')
    .update(below.at(-1) ?? Buffer.alloc(0))
    .digest('hex');
}

async function provider(client: IAMClient, account: string) {
  const out = await client.send(
    new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `arn:aws:iam::${account}:oidc-provider/${issuerHost}` }),
  );
  return {
    clientIds: out.ClientIDList ?? [],
    thumbprints: out.ThumbprintList ?? [],
    tags: Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

it('the apiserver is its own issuer: its discovery document is open to anonymous readers, as IAM reads it', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    request(`${own.issuer}/.well-known/openid-configuration`, { ca: readFileSync(own.issuerCaFile ?? '', 'utf8') }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .once('error', reject)
      .end();
  });
  assert.equal(status, 200);
});

it("creates a role in the target account, trusting the provider the operator made there with the chain's thumbprint", async () => {
  const before = (await fetchCalls(env().awsEndpoint)).length;
  await applyIamsa(ns, 'cross', { account: TARGET, attachPolicyARNs: [S3_READ] });
  const ready = await waitForCondition(ns, 'cross', 'Ready', 'True');
  const first = (await fetchCalls(env().awsEndpoint)).slice(before);
  process.stderr.write(
    `first create in the target account: ${first.length} calls (${first.map((c) => `${c.service}:${c.operation}`).join(', ')})\n`,
  );
  assert.equal(first.filter((c) => c.operation === 'AssumeRole').length, 1, 'one AssumeRole: the session is kept');
  assert.equal(ready.status?.roleARN, `arn:aws:iam::${TARGET}:role/local.${ns}.cross`);
  const role = (await target.send(new GetRoleCommand({ RoleName: `local.${ns}.cross` }))).Role;
  const trust = decodeDoc(role?.AssumeRolePolicyDocument) as { Statement: { Principal: { Federated: string } }[] };
  assert.equal(trust.Statement[0]?.Principal.Federated, `arn:aws:iam::${TARGET}:oidc-provider/${issuerHost}`);
  await assert.rejects(iam().send(new GetRoleCommand({ RoleName: `local.${ns}.cross` })), /NoSuchEntity/, 'not in the own account');
  tally.cross_account_ready++;

  const made = await provider(target, TARGET);
  assert.deepEqual(made.tags, { 'irsa.dev/managed-by': 'irsa-operator', 'irsa.dev/cluster': 'local' });
  assert.deepEqual(made.clientIds, ['sts.amazonaws.com']);
  const thumbprint = await thumbprintFromChain();
  assert.deepEqual(made.thumbprints, [thumbprint]);
  tally.thumbprint_ok = 1;
  tally.providers_created++;
});

it("the own account's provider: created with the first audience in use, the next one added", async () => {
  await applyIamsa(ns, 'vault-app', { audience: 'vault' });
  await waitForCondition(ns, 'vault-app', 'Ready', 'True');
  const first = await provider(iam(), TEST_ACCOUNT);
  assert.deepEqual(first.clientIds, ['vault']);
  assert.deepEqual(first.thumbprints, [await thumbprintFromChain()]);
  tally.providers_created++;
  await applyIamsa(ns, 'sts-app', {});
  await waitForCondition(ns, 'sts-app', 'Ready', 'True');
  assert.deepEqual((await provider(iam(), TEST_ACCOUNT)).clientIds, ['vault', 'sts.amazonaws.com']);
  const listed = (await iam().send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  assert.equal(listed.length, 1, 'one provider for the issuer, never recreated');
});

it('an attachRoleARN role of the target account is read through its credentials and becomes Ready', async () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${TARGET}:oidc-provider/${issuerHost}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${issuerHost}:sub`]: `system:serviceaccount:${ns}:legacy`, [`${issuerHost}:aud`]: 'sts.amazonaws.com' },
        },
      },
    ],
  };
  const made = await target.send(
    new CreateRoleCommand({ RoleName: 'legacy-app', Path: '/platform/', AssumeRolePolicyDocument: JSON.stringify(trust) }),
  );
  await applyIamsa(ns, 'legacy', { attachRoleARN: made.Role?.Arn ?? '' });
  const ready = await waitForCondition(ns, 'legacy', 'Ready', 'True');
  assert.equal(ready.status?.roleARN, made.Role?.Arn);
  await waitForCondition(ns, 'legacy', 'TrustVerified', 'True', 'TrustAdmitsServiceAccount');
  tally.cross_account_ready++;
});

it('refuses an account it is not configured for, and one not open to the namespace, before any AWS call', async () => {
  const before = (await fetchCalls(env().awsEndpoint)).length;
  await applyIamsa(ns, 'elsewhere', { account: '999999999999' });
  const refused = await waitForCondition(ns, 'elsewhere', 'Ready', 'False', 'AccountNotAllowed');
  assert.match(refused.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /not 999999999999/);
  await waitForCondition(ns, 'elsewhere', 'Stalled', 'True', 'AccountNotAllowed');
  tally.refused_account_caught++;
  await applyIamsa(closed, 'closed', { account: TARGET });
  await waitForCondition(closed, 'closed', 'Ready', 'False', 'AccountNotAllowedInNamespace');
  tally.refused_account_caught++;
  const calls = (await fetchCalls(env().awsEndpoint)).slice(before);
  assert.deepEqual(calls, [], 'no AWS call for a refused account');
});

/** IAM and STS calls from `apply` until the object is Ready and its ServiceAccount annotated. */
async function callsOfCreate(name: string, spec: object): Promise<AwsCall[]> {
  const before = (await fetchCalls(env().awsEndpoint)).length;
  await applyIamsa(ns, name, spec);
  await waitForCondition(ns, name, 'Ready', 'True');
  return (await fetchCalls(env().awsEndpoint)).slice(before);
}

it('measures the extra IAM/STS calls of a create in the target account, and deletes the role there with the object', async () => {
  const ownCalls = await callsOfCreate('measure-own', { attachPolicyARNs: [S3_READ] });
  const crossCalls = await callsOfCreate('measure-cross', { account: TARGET, attachPolicyARNs: [S3_READ] });
  const ops = (calls: AwsCall[]) => calls.map((c) => `${c.service}:${c.operation}${c.account ? `@${c.account}` : ''}`);
  const extra = crossCalls.length - ownCalls.length;
  process.stderr.write(`own account create: ${ownCalls.length} calls (${ops(ownCalls).join(', ')})\n`);
  process.stderr.write(`target account create: ${crossCalls.length} calls (${ops(crossCalls).join(', ')})\n`);
  console.log(`cross-account: extra_calls_per_create=${extra} (credentials cached; STS AssumeRole once per account and hour)`);
  assert.ok(
    crossCalls.every((c) => c.service === 'sts' || c.account === TARGET),
    'every IAM call of the create acts in the target account',
  );
  assert.ok(extra <= 1, `a create in another account costs at most one call more (${extra})`);

  await kubectl(['delete', '-n', ns, 'iamsa', 'measure-cross', '--wait=true', '--timeout=30s']);
  await waitGone(['-n', ns, 'iamsa', 'measure-cross']);
  await assert.rejects(
    target.send(new GetRoleCommand({ RoleName: `local.${ns}.measure-cross` })),
    /NoSuchEntity/,
    'deleted in the target account',
  );
  assert.equal((await getIamsa(ns, 'cross')).status?.roleARN?.includes(TARGET), true);
});

it('the account of an object cannot change (IAM cannot move a role): the API server refuses it', async () => {
  const r = await kubectlResult([
    'patch',
    '-n',
    ns,
    'iamsa',
    'cross',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { account: TEST_ACCOUNT } }),
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /account is immutable/);
});
