// Ready means a pod gets credentials: the whole chain with the real pod identity webhook. Pods of
// an object's ServiceAccount get its role; a token minted for that ServiceAccount is admitted by the
// trust policy read back from IAM (judged by src/policy/evaluate.ts, since moto judges no trust) and
// exchanged by STS; a hand-annotated ServiceAccount pointing at the same role is refused; an
// audience the OIDC provider does not list is caught before any pod gets it; pods that predate the
// object are reported, and their Deployment restarted when asked. Ends with one line:
//   identity: pods=N mutated=N trust_allowed=N foreign_denied=N sts_accepted=N audience_caught=N stale_pods_reported=N restarted=N
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parse } from 'yaml';
import { RESTARTED_AT } from '../../src/kube/client.ts';
import type { Operator } from '../../src/operator.ts';
import { issuerHostPath } from '../../src/policy/arn.ts';
import { parsePolicyDocumentOrEmpty } from '../../src/policy/document.ts';
import { judgeTrust } from '../../src/policy/trust-check.ts';
import { TEST_REGION } from '../env/cluster.ts';
import {
  applyIamsa,
  env,
  getIamsa,
  getJson,
  iam,
  kubectl,
  newNamespace,
  REPO,
  resetAws,
  startOperator,
  waitFor,
  waitForCondition,
} from './helpers.ts';
import { createPod, dryRunPod, injectionOf, waitForInjection } from './pods.ts';

const tally = {
  pods: 0,
  mutated: 0,
  trust_allowed: 0,
  foreign_denied: 0,
  sts_accepted: 0,
  audience_caught: 0,
  stale_pods_reported: 0,
  restarted: 0,
};
const RESTART_ROLE = 'irsa-operator-pod-restarts-e2e';
let ns: string;
let op: Operator;

before(async () => {
  assert.ok(env().webhookUrl, 'the global setup runs the pod identity webhook (test/env/global.ts)');
  await resetAws();
  ns = await newNamespace('chain');
  // stalePods: restart needs the rules of config/rbac/pod-restarts, granted here as an overlay would.
  const component = parse(readFileSync(join(REPO, 'config/rbac/pod-restarts/kustomization.yaml'), 'utf8')) as {
    patches: { patch: string }[];
  };
  const rules = (parse(component.patches[0]?.patch ?? '') as { value: unknown }[]).map((op) => op.value);
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: RESTART_ROLE }, rules }),
  );
  await kubectl(['create', 'clusterrolebinding', RESTART_ROLE, `--clusterrole=${RESTART_ROLE}`, '--user=irsa-operator']);
  op = await startOperator({ watchNamespaces: [ns], stalePods: 'restart' });
});

after(async () => {
  await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  await kubectl(['delete', '-n', ns, 'pods', '--all', '--wait=true', '--timeout=30s']);
  await kubectl(['delete', 'clusterrolebinding,clusterrole', RESTART_ROLE]);
  await op.stop();
  console.log(
    `identity: ${Object.entries(tally)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
});

/** The claims of a JWT, unverified. */
function claims(jwt: string): { aud: string[]; sub: string; iss: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as ReturnType<typeof claims>;
}

/** Whether the role's trust, as IAM holds it, admits this token (IAM's rules, src/policy/evaluate.ts). */
async function trustAdmits(roleArn: string, providerArn: string, token: string): Promise<boolean> {
  const role = (await iam().send(new GetRoleCommand({ RoleName: roleArn.split('/').pop() ?? '' }))).Role;
  const c = claims(token);
  const [, namespace = '', serviceAccountName = ''] = /^system:serviceaccount:([^:]+):(.+)$/.exec(c.sub) ?? [];
  const trust = parsePolicyDocumentOrEmpty(role?.AssumeRolePolicyDocument ?? '');
  const subject = {
    oidcProviderArn: providerArn,
    issuerHostPath: issuerHostPath(c.iss),
    namespace,
    serviceAccountName,
    audience: c.aud[0] ?? '',
  };
  return judgeTrust(trust, roleArn, subject).admitted;
}

async function token(sa: string, audience: string): Promise<string> {
  return (await kubectl(['create', 'token', sa, '-n', ns, '--audience', audience, '--duration=3600s'])).trim();
}

it('pods of the object get its role; its token is admitted by the trust IAM holds and exchanged by STS; a foreign ServiceAccount is refused', async () => {
  await applyIamsa(ns, 'reader', { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] });
  const ready = await waitForCondition(ns, 'reader', 'Ready', 'True');
  const roleArn = ready.status?.roleARN ?? '';
  const providerArn = (await getJson<{ status: { oidcProviderARN: string } }>(['-n', ns, 'get', 'iamsa', 'reader'])).status.oidcProviderARN;
  assert.ok((await waitForCondition(ns, 'reader', 'TrustVerified', 'True', 'TrustAdmitsServiceAccount')).status);

  await waitForInjection(ns, 'reader', roleArn);
  for (const name of ['reader-1', 'reader-2']) {
    const injected = injectionOf(await createPod(ns, name, 'reader'));
    tally.pods++;
    if (injected.roleArn === roleArn && injected.audience === 'sts.amazonaws.com' && injected.tokenFile) tally.mutated++;
  }
  assert.equal(tally.mutated, 2);

  const own = await token('reader', 'sts.amazonaws.com');
  assert.equal(await trustAdmits(roleArn, providerArn, own), true);
  tally.trust_allowed++;
  // moto checks neither the signature nor the trust: this shows the call is well formed; the
  // evaluator above is the judge of the trust.
  const sts = new STSClient({ region: TEST_REGION, endpoint: env().motoUrl });
  const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'chain', WebIdentityToken: own }));
  sts.destroy();
  assert.ok(out.Credentials?.SessionToken);
  tally.sts_accepted++;

  // Someone annotates another ServiceAccount with the same role by hand: the webhook injects it
  // (it checks no trust), but a token of that ServiceAccount is refused by the role's trust.
  await kubectl(['create', 'serviceaccount', '-n', ns, 'intruder']);
  await kubectl(['annotate', 'serviceaccount', '-n', ns, 'intruder', `eks.amazonaws.com/role-arn=${roleArn}`]);
  await waitForInjection(ns, 'intruder', roleArn);
  assert.equal(await trustAdmits(roleArn, providerArn, await token('intruder', 'sts.amazonaws.com')), false);
  tally.foreign_denied++;
  // So is a token of the right ServiceAccount for another audience.
  assert.equal(await trustAdmits(roleArn, providerArn, await token('reader', 'vault')), false);
});

it('an audience the OIDC provider does not list: Ready=False before any pod gets it', async () => {
  await applyIamsa(ns, 'vault-reader', { audience: 'test' });
  const obj = await waitForCondition(ns, 'vault-reader', 'Ready', 'False', 'AudienceNotAllowedByProvider');
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  assert.match(ready?.message ?? '', /accepts the audiences sts.amazonaws.com, not test/);
  await waitForCondition(ns, 'vault-reader', 'TrustVerified', 'False', 'AudienceNotAllowedByProvider');
  // Nothing for the webhook to inject: no ServiceAccount was written.
  const probe = await kubectl(['get', 'serviceaccount', '-n', ns, '--no-headers', '-o', 'name']);
  assert.ok(!probe.includes('serviceaccount/vault-reader'), probe);
  tally.audience_caught++;
});

/** A Deployment with a ReplicaSet and one pod, as kube-controller-manager would leave them (it does not run here). */
async function deploymentWithPod(name: string, serviceAccount: string): Promise<void> {
  const labels = { app: name };
  const template = { metadata: { labels }, spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'busybox' }] } };
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: { selector: { matchLabels: labels }, template },
    }),
  );
  const deployUid = (await getJson<{ metadata: { uid: string } }>(['-n', ns, 'get', 'deployment', name])).metadata.uid;
  const rs = `${name}-5d8f`;
  const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployUid, controller: true };
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: rs, namespace: ns, ownerReferences: [owner] },
      spec: { selector: { matchLabels: labels }, template },
    }),
  );
  const rsUid = (await getJson<{ metadata: { uid: string } }>(['-n', ns, 'get', 'replicaset', rs])).metadata.uid;
  await createPod(ns, `${rs}-a`, serviceAccount, { kind: 'ReplicaSet', name: rs, uid: rsUid });
}

it('pods that predate the object: reported in status and an Event, the Deployment restarted, the bare pod left alone', async () => {
  await kubectl(['create', 'serviceaccount', '-n', ns, 'legacy']);
  assert.equal(injectionOf(await createPod(ns, 'legacy-bare', 'legacy')).roleArn, undefined);
  await deploymentWithPod('legacy-web', 'legacy');

  await applyIamsa(ns, 'legacy', { serviceAccount: { overrideExisting: true }, restartPods: true });
  await waitForCondition(ns, 'legacy', 'Ready', 'True');
  await waitFor('status.podsNeedingRestart', async () => (await podsStatus()) !== undefined, 30_000, 100);
  const reported = await podsStatus();
  assert.deepEqual(reported, { count: 2, pods: ['legacy-bare', 'legacy-web-5d8f-a'] });
  tally.stale_pods_reported = reported?.count ?? 0;

  const events = await kubectl([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    'involvedObject.name=legacy,reason=PodsNeedRestart',
    '-o',
    'jsonpath={.items[*].message}',
  ]);
  assert.match(events, /2 pods of ServiceAccount legacy started before its role annotations .*Pod\/legacy-bare, Deployment\/legacy-web/);
  let restartedAt = '';
  await waitFor(
    'the Deployment restarted',
    async () => {
      restartedAt = await kubectl([
        'get',
        'deployment',
        '-n',
        ns,
        'legacy-web',
        '-o',
        `jsonpath={.spec.template.metadata.annotations.${RESTARTED_AT.replaceAll('.', '\\.')}}`,
      ]);
      return restartedAt !== '';
    },
    30_000,
    100,
  );
  assert.ok(!Number.isNaN(Date.parse(restartedAt)), restartedAt);
  tally.restarted++;
  assert.equal(
    (await kubectl(['get', 'pod', '-n', ns, 'legacy-bare', '-o', 'name'])).trim(),
    'pod/legacy-bare',
    'a bare pod is never deleted',
  );
  // A pod created now gets the role: new pods are fine, which is what Ready says.
  assert.equal(injectionOf(await dryRunPod(ns, 'legacy')).roleArn, (await getIamsa(ns, 'legacy')).status?.roleARN);
});

async function podsStatus(): Promise<{ count: number; pods: string[] } | undefined> {
  return (await getJson<{ status?: { podsNeedingRestart?: { count: number; pods: string[] } } }>(['-n', ns, 'get', 'iamsa', 'legacy']))
    .status?.podsNeedingRestart;
}
