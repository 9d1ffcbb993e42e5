// The whole IRSA path with the real amazon-eks-pod-identity-webhook (test/env/webhook.ts): an
// IamServiceAccount becomes a role and an annotated ServiceAccount, a pod of that ServiceAccount gets
// the role, the token the pod would mount, and STS (moto) hands out credentials for it.
import { before, after, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Operator } from '../../src/operator.ts';
import { TEST_REGION } from '../env/cluster.ts';
import { applyIamsa, env, kubectl, newNamespace, resetAws, startOperator, TEST_ISSUER, waitForCondition, waitGone } from './helpers.ts';
import { createPod, dryRunPod, injectionOf, storedInjection, waitForInjection } from './pods.ts';

const TOKEN_FILE = '/var/run/secrets/eks.amazonaws.com/serviceaccount/token';
let ns: string;
let op: Operator;

before(async () => {
  assert.ok(env().webhookUrl, 'the global setup runs the pod identity webhook (test/env/global.ts)');
  // The provider accepts the custom audience of the first test (STS refuses any other).
  await resetAws(undefined, undefined, ['sts.amazonaws.com', 'irsa-e2e.example.com']);
  ns = await newNamespace('webhook');
  op = await startOperator({ watchNamespaces: [ns] });
});

after(async () => {
  // Leave nothing for the other suites' operators to find (no garbage collector runs).
  await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  await kubectl(['delete', '-n', ns, 'pods', '--all', '--wait=true', '--timeout=30s']);
  await op.stop();
});

/** The claims of a JWT, unverified. */
function claims(jwt: string): { aud: string[]; sub: string; iss: string; exp: number; iat: number } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as ReturnType<typeof claims>;
}

it("a pod of the IamServiceAccount's ServiceAccount gets its role, audience, token lifetime and regional STS", async () => {
  const audience = 'irsa-e2e.example.com';
  await applyIamsa(ns, 'reader', {
    serviceAccount: { name: 'reader-sa' },
    attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    audience,
    tokenExpiration: 3600,
    stsRegionalEndpoints: true,
  });
  const ready = await waitForCondition(ns, 'reader', 'Ready', 'True');
  const roleArn = ready.status?.roleARN ?? '';
  assert.match(roleArn, /^arn:aws:iam::123456789012:role\//);

  await waitForInjection(ns, 'reader-sa', roleArn);
  const pod = await createPod(ns, 'app', 'reader-sa');
  assert.deepEqual(injectionOf(pod), {
    roleArn,
    tokenFile: TOKEN_FILE,
    audience,
    expirationSeconds: 3600,
    regional: 'regional',
    region: TEST_REGION,
  });
  assert.deepEqual(await storedInjection(ns, 'app'), injectionOf(pod), 'the stored pod is the one admission answered');
  assert.equal(pod.status?.phase, 'Pending', 'nothing schedules it here: only the spec is looked at');
});

it('defaults: audience sts.amazonaws.com, a day-long token, and no regional STS when it is turned off', async () => {
  await applyIamsa(ns, 'writer', { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3FullAccess'], stsRegionalEndpoints: false });
  const roleArn = (await waitForCondition(ns, 'writer', 'Ready', 'True')).status?.roleARN ?? '';
  const injected = await waitForInjection(ns, 'writer', roleArn);
  assert.deepEqual(injected, {
    roleArn,
    tokenFile: TOKEN_FILE,
    audience: 'sts.amazonaws.com',
    expirationSeconds: 86400,
    regional: undefined,
    region: TEST_REGION,
  });
});

it('a pod of a ServiceAccount no IamServiceAccount manages gets nothing', async () => {
  await kubectl(['create', 'serviceaccount', '-n', ns, 'plain']);
  const pod = await dryRunPod(ns, 'plain');
  assert.deepEqual(injectionOf(pod), {
    roleArn: undefined,
    tokenFile: undefined,
    audience: undefined,
    expirationSeconds: undefined,
    regional: undefined,
    region: undefined,
  });
  assert.equal(pod.spec?.volumes?.length ?? 0, 0);
});

it('once the IamServiceAccount is gone, new pods of its ServiceAccount get no role', async () => {
  await applyIamsa(ns, 'short-lived', {});
  const roleArn = (await waitForCondition(ns, 'short-lived', 'Ready', 'True')).status?.roleARN ?? '';
  await waitForInjection(ns, 'short-lived', roleArn);
  await kubectl(['delete', '-n', ns, 'iamsa', 'short-lived', '--wait=true', '--timeout=30s']);
  await waitGone(['-n', ns, 'serviceaccount', 'short-lived']);
  // The operator deleted the ServiceAccount it made; the webhook forgets it (pods already running
  // keep their role until they restart: the webhook mutates at creation only).
  await waitForInjection(ns, 'short-lived', undefined);
  const pod = await createPod(ns, 'after-delete', 'short-lived');
  assert.equal(injectionOf(pod).roleArn, undefined);
  assert.equal(pod.spec?.volumes?.some((v) => v.projected) ?? false, false);
});

it('a token minted for the ServiceAccount and audience is one STS (moto) exchanges for the role', async () => {
  const audience = 'irsa-e2e.example.com';
  const roleArn = (await waitForCondition(ns, 'reader', 'Ready', 'True')).status?.roleARN ?? '';
  const token = (await kubectl(['create', 'token', 'reader-sa', '-n', ns, '--audience', audience, '--duration=3600s'])).trim();
  const c = claims(token);
  assert.deepEqual(c.aud, [audience]);
  assert.equal(c.sub, `system:serviceaccount:${ns}:reader-sa`);
  assert.equal(c.iss, TEST_ISSUER);
  assert.equal(c.exp - c.iat, 3600);

  // moto checks neither the token's signature (against the issuer's keys) nor the role's trust
  // policy (sub, aud): this proves the pieces fit together (ARN, token shape, call), not that AWS
  // would trust them. The trust policy itself is checked in reconcile and identity tests.
  const sts = new STSClient({ region: TEST_REGION, endpoint: env().motoUrl });
  const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'app', WebIdentityToken: token }));
  sts.destroy();
  const roleName = roleArn.split('/').pop() ?? '';
  assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::123456789012:assumed-role/${roleName}/app`);
  assert.ok(out.Credentials?.AccessKeyId && out.Credentials.SecretAccessKey && out.Credentials.SessionToken);
});
