// EKS Pod Identity from the same IamServiceAccount (spec.identity): the role's trust admits
// pods.eks.amazonaws.com pinned by EKS's session tags and an association binds the ServiceAccount
// (the associations live in the test environment's store behind the AWS proxy, the clusters and
// roles in moto); Both has both paths; IRSA -> Both -> PodIdentity -> IRSA in place, with a
// working path for a new pod at every moment a watch of the object shows; an association deleted
// or changed behind the operator's back is repaired by the drift sweep; deletionPolicy Delete and
// Retain; an association someone else made for the ServiceAccount is never taken over.
// A working path is judged as IAM would (src/policy/trust-check.ts on the trust moto holds): IRSA
// = the ServiceAccount carries the role annotation and the trust admits its token; Pod Identity =
// an association binds the ServiceAccount to the role and the trust admits what EKS sends.
// Ends with one line:
//   podidentity: objects=N associations_ok=N migrations_ok=N gap_moments=0 drift_repaired=N conflicts_caught=N
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
  type EKSClient,
  type PodIdentityAssociation,
} from '@aws-sdk/client-eks';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import type { Operator } from '../../src/operator.ts';
import { issuerHostPath, oidcProviderArn } from '../../src/policy/arn.ts';
import { parsePolicyDocumentOrEmpty } from '../../src/policy/document.ts';
import { judgePodIdentityTrust, judgeTrust } from '../../src/policy/trust-check.ts';
import { trustPolicyFor } from '../../src/policy/trust.ts';
import {
  applyIamsa,
  createEksCluster,
  decodeDoc,
  eks,
  env,
  getIamsa,
  iam,
  kubectl,
  newNamespace,
  resetAws,
  startOperator,
  TEST_ISSUER,
  waitFor,
  waitForCondition,
  waitGone,
} from './helpers.ts';

const ACCOUNT = '123456789012';
const ISSUER = issuerHostPath(TEST_ISSUER);
const PROVIDER = oidcProviderArn('aws', ACCOUNT, ISSUER);
const tally = { objects: 0, associations_ok: 0, migrations_ok: 0, gap_moments: 0, drift_repaired: 0, conflicts_caught: 0 };
let ns: string;
let op: Operator;
let client: EKSClient;
let clusterArn: string;
let core: CoreV1Api;
let kc: KubeConfig;

before(async () => {
  await resetAws();
  clusterArn = await createEksCluster();
  ns = await newNamespace('podid');
  client = eks();
  kc = new KubeConfig();
  kc.loadFromFile(env().adminKubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  // A drift period of 2 s: the sweep that repairs associations runs within the test's deadlines.
  op = await startOperator({ watchNamespaces: [ns], driftPeriodSeconds: 2 });
});

after(async () => {
  await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
  await op.stop();
  client.destroy();
  console.log(
    `podidentity: ${Object.entries(tally)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
});

async function apply(name: string, spec: object): Promise<void> {
  await applyIamsa(ns, name, spec);
}

/** The associations of one ServiceAccount, described, as EKS has them. */
async function associationsOf(serviceAccount: string): Promise<PodIdentityAssociation[]> {
  const listed = await client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'local', namespace: ns, serviceAccount }));
  const out: PodIdentityAssociation[] = [];
  for (const s of listed.associations ?? []) {
    // One deleted between the list and this read is gone.
    const d = await client
      .send(new DescribePodIdentityAssociationCommand({ clusterName: 'local', associationId: s.associationId ?? '' }))
      .catch((e: unknown) => {
        if ((e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw e;
      });
    if (d?.association) out.push(d.association);
  }
  return out;
}

async function trustOf(roleName: string): Promise<string | undefined> {
  return iam()
    .send(new GetRoleCommand({ RoleName: roleName }))
    .then(
      (r) => r.Role?.AssumeRolePolicyDocument,
      () => undefined,
    );
}

async function roleAnnotation(serviceAccount: string): Promise<string | undefined> {
  return core.readNamespacedServiceAccount({ namespace: ns, name: serviceAccount }).then(
    (sa) => sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'],
    () => undefined,
  );
}

interface Moment {
  trust: string | undefined;
  annotation: string | undefined;
  associations: { roleArn: string | undefined; disableSessionTags: boolean | undefined }[];
}

/** What a new pod of the ServiceAccount would get at one moment: each path's verdict. */
function paths(m: Moment, roleArn: string, serviceAccount: string): { irsa: boolean; pod: boolean } {
  const doc = parsePolicyDocumentOrEmpty(m.trust ?? '');
  const token = {
    oidcProviderArn: PROVIDER,
    issuerHostPath: ISSUER,
    namespace: ns,
    serviceAccountName: serviceAccount,
    audience: 'sts.amazonaws.com',
  };
  const irsa = m.trust !== undefined && m.annotation === roleArn && judgeTrust(doc, roleArn, token).admitted;
  const pod =
    m.trust !== undefined &&
    m.associations.some(
      (a) =>
        a.roleArn === roleArn &&
        judgePodIdentityTrust(doc, roleArn, {
          clusterArn,
          account: ACCOUNT,
          namespace: ns,
          serviceAccountName: serviceAccount,
          sessionTags: a.disableSessionTags !== true,
        }).admitted,
    );
  return { irsa, pod };
}

/**
 * One moment, read so that it is a real one: the trust, the annotation and the associations are
 * read twice in a row, and taken only when both reads agree (else read again).
 */
async function moment(roleName: string, serviceAccount: string): Promise<Moment> {
  const read = async (): Promise<Moment> => ({
    trust: await trustOf(roleName),
    annotation: await roleAnnotation(serviceAccount),
    associations: (await associationsOf(serviceAccount)).map((a) => ({ roleArn: a.roleArn, disableSessionTags: a.disableSessionTags })),
  });
  for (;;) {
    const [first, second] = [await read(), await read()];
    if (JSON.stringify(first) === JSON.stringify(second)) return second;
  }
}

/**
 * Watches the object and, after every change of its status, judges the moment; between those it
 * keeps judging moments as fast as it can read them, to see inside a pass too. Counts the moments
 * judged and those without a working path.
 */
async function watchPaths(name: string, roleName: string, roleArn: string, serviceAccount: string) {
  const seen = { moments: 0, gaps: 0, log: [] as string[] };
  let lastStatus = '';
  let running: Promise<void> = Promise.resolve();
  let pending = false;
  const judge = async () => {
    const m = await moment(roleName, serviceAccount);
    const p = paths(m, roleArn, serviceAccount);
    seen.moments++;
    if (!p.irsa && !p.pod) {
      seen.gaps++;
      seen.log.push(JSON.stringify(m));
    }
  };
  let polling = true;
  const poll = (async () => {
    while (polling) await judge();
  })();
  const abort = await new Watch(kc).watch(
    `/apis/irsa.dev/v1alpha1/namespaces/${ns}/iamserviceaccounts`,
    { fieldSelector: `metadata.name=${name}` },
    (_phase: string, obj: { status?: unknown }) => {
      const status = JSON.stringify(obj.status ?? {});
      if (status === lastStatus) return;
      lastStatus = status;
      // One judgement at a time; changes that come during one are judged once it is done.
      if (pending) return;
      pending = true;
      running = running.then(() => {
        pending = false;
        return judge();
      });
    },
    () => undefined,
  );
  return {
    seen,
    stop: async () => {
      abort.abort();
      polling = false;
      await Promise.all([running, poll]);
    },
  };
}

describe('spec.identity', () => {
  it('PodIdentity: the role trusts pods.eks pinned to this ServiceAccount, and an association binds it', async () => {
    await apply('pod-app', { identity: 'PodIdentity', attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] });
    tally.objects++;
    const ready = await waitForCondition(ns, 'pod-app', 'Ready', 'True');
    const { roleARN = '', roleName = '', podIdentityAssociationID, podIdentityAssociationARN } = ready.status ?? {};
    assert.equal(ready.status?.conditions?.find((c) => c.type === 'AssociationSynced')?.status, 'True', 'AssociationSynced=True');
    const trust = await trustOf(roleName);
    const pod = { clusterArn, account: ACCOUNT, namespace: ns, serviceAccountName: 'pod-app', sessionTags: true };
    assert.deepEqual(decodeDoc(trust), trustPolicyFor({ pod }), 'the pods.eks statement alone: no OIDC statement');
    const doc = parsePolicyDocumentOrEmpty(trust ?? '');
    assert.equal(judgePodIdentityTrust(doc, roleARN, pod).admitted, true);
    // Pinned: an association of another namespace, ServiceAccount or cluster cannot use the role.
    assert.equal(judgePodIdentityTrust(doc, roleARN, { ...pod, namespace: 'other' }).admitted, false);
    assert.equal(judgePodIdentityTrust(doc, roleARN, { ...pod, serviceAccountName: 'other' }).admitted, false);
    assert.equal(judgePodIdentityTrust(doc, roleARN, { ...pod, clusterArn: clusterArn.replace(/local$/, 'staging') }).admitted, false);
    const [association, ...more] = await associationsOf('pod-app');
    assert.equal(more.length, 0);
    assert.equal(association?.roleArn, roleARN);
    assert.equal(association?.associationId, podIdentityAssociationID);
    assert.equal(association?.associationArn, podIdentityAssociationARN);
    assert.equal(association?.tags?.['irsa.dev/managed-by'], 'irsa-operator');
    assert.equal(association?.tags?.['irsa.dev/name'], 'pod-app');
    // The ServiceAccount is created, without the IRSA annotations.
    assert.equal(await roleAnnotation('pod-app'), undefined);
    await core.readNamespacedServiceAccount({ namespace: ns, name: 'pod-app' });
    tally.associations_ok++;
  });

  it('Both: both trust statements, the annotation and the association', async () => {
    await apply('both-app', { identity: 'Both', podIdentity: { disableSessionTags: true } });
    tally.objects++;
    const ready = await waitForCondition(ns, 'both-app', 'Ready', 'True');
    const { roleARN = '', roleName = '' } = ready.status ?? {};
    const m = await moment(roleName, 'both-app');
    assert.deepEqual(paths(m, roleARN, 'both-app'), { irsa: true, pod: true });
    const doc = decodeDoc(m.trust) as {
      Statement: { Principal: Record<string, string>; Condition: { StringEquals: Record<string, string> } }[];
    };
    assert.deepEqual(
      doc.Statement.map((s) => Object.keys(s.Principal)[0]),
      ['Federated', 'Service'],
    );
    // Without session tags EKS sends none to pin on: the statement pins the cluster.
    assert.deepEqual(doc.Statement[1]?.Condition.StringEquals, { 'aws:SourceArn': clusterArn, 'aws:SourceAccount': ACCOUNT });
    assert.equal(m.associations[0]?.disableSessionTags, true);
    tally.associations_ok++;
  });

  it('IRSA -> Both -> PodIdentity -> IRSA in place: a working path at every moment the watch shows', async () => {
    await apply('migrate', {});
    tally.objects++;
    const first = await waitForCondition(ns, 'migrate', 'Ready', 'True');
    const { roleARN = '', roleName = '' } = first.status ?? {};
    const watch = await watchPaths('migrate', roleName, roleARN, 'migrate');
    const want = { IRSA: { irsa: true, pod: false }, Both: { irsa: true, pod: true }, PodIdentity: { irsa: false, pod: true } };
    try {
      for (const mode of ['Both', 'PodIdentity', 'IRSA'] as const) {
        const gapsBefore = watch.seen.gaps;
        await apply('migrate', { identity: mode });
        await waitForCondition(ns, 'migrate', 'Ready', 'True', 'Synced', 60_000);
        const m = await moment(roleName, 'migrate');
        assert.deepEqual(paths(m, roleARN, 'migrate'), want[mode], `${mode}: the paths at rest`);
        // At rest the trust admits exactly the paths of the mode.
        assert.equal(
          (decodeDoc(m.trust) as { Statement: unknown[] }).Statement.length,
          mode === 'Both' ? 2 : 1,
          `${mode}: trust statements`,
        );
        assert.equal(m.associations.length, want[mode].pod ? 1 : 0, `${mode}: associations`);
        const status = (await getIamsa(ns, 'migrate')).status;
        assert.equal(status?.podIdentityAssociationID !== undefined, want[mode].pod, `${mode}: status names the association`);
        if (watch.seen.gaps === gapsBefore) tally.migrations_ok++;
      }
    } finally {
      await watch.stop();
      tally.gap_moments += watch.seen.gaps;
    }
    assert.ok(watch.seen.moments >= 6, `only ${watch.seen.moments} moments judged`);
    assert.equal(watch.seen.gaps, 0, `moments without a working path: ${watch.seen.log.join('\n')}`);
  });

  it('repairs an association deleted or given another role behind its back (drift sweep)', async () => {
    const ready = await waitForCondition(ns, 'pod-app', 'Ready', 'True');
    const roleArn = ready.status?.roleARN ?? '';
    const id = ready.status?.podIdentityAssociationID ?? '';
    await client.send(new DeletePodIdentityAssociationCommand({ clusterName: 'local', associationId: id }));
    await waitFor(
      'a new association for pod-app',
      async () => (await associationsOf('pod-app')).some((a) => a.roleArn === roleArn),
      30_000,
      200,
    );
    await waitFor(
      'status to name the new association',
      async () => {
        const s = (await getIamsa(ns, 'pod-app')).status;
        return s?.podIdentityAssociationID !== undefined && s.podIdentityAssociationID !== id;
      },
      30_000,
      200,
    );
    tally.drift_repaired++;

    const [current] = await associationsOf('pod-app');
    const elsewhere = `arn:aws:iam::${ACCOUNT}:role/elsewhere`;
    await client.send(
      new UpdatePodIdentityAssociationCommand({ clusterName: 'local', associationId: current?.associationId ?? '', roleArn: elsewhere }),
    );
    await waitFor(
      'the association to point at the role again',
      async () => (await associationsOf('pod-app'))[0]?.roleArn === roleArn,
      30_000,
      200,
    );
    tally.drift_repaired++;
  });

  it('deletionPolicy Delete removes the association and the role; Retain keeps both', async () => {
    await apply('gone', { identity: 'PodIdentity' });
    await apply('kept', { identity: 'PodIdentity', deletionPolicy: 'Retain' });
    tally.objects += 2;
    const gone = (await waitForCondition(ns, 'gone', 'Ready', 'True')).status;
    const kept = (await waitForCondition(ns, 'kept', 'Ready', 'True')).status;
    await kubectl(['delete', '-n', ns, 'iamsa', 'gone', 'kept', '--wait=true', '--timeout=30s']);
    await waitGone(['-n', ns, 'iamsa', 'gone']);
    await waitGone(['-n', ns, 'iamsa', 'kept']);
    assert.deepEqual(await associationsOf('gone'), []);
    assert.equal(await trustOf(gone?.roleName ?? ''), undefined, 'role deleted');
    const retained = await associationsOf('kept');
    assert.equal(retained[0]?.associationId, kept?.podIdentityAssociationID);
    assert.ok(await trustOf(kept?.roleName ?? ''), 'role kept');
    tally.associations_ok += 2;
  });

  it('an association someone else made for the ServiceAccount: AssociationConflict, and it is left as it was', async () => {
    const theirs = `arn:aws:iam::${ACCOUNT}:role/made-by-hand`;
    const made = await client.send(
      new CreatePodIdentityAssociationCommand({ clusterName: 'local', namespace: ns, serviceAccount: 'taken', roleArn: theirs }),
    );
    await apply('claimer', { identity: 'PodIdentity', serviceAccount: { name: 'taken' } });
    tally.objects++;
    const stalled = await waitForCondition(ns, 'claimer', 'Ready', 'False', 'AssociationConflict');
    assert.match(stalled.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /never takes one over/);
    assert.equal(stalled.status?.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    const [after, ...more] = await associationsOf('taken');
    assert.equal(more.length, 0);
    assert.equal(after?.associationId, made.association?.associationId);
    assert.equal(after?.roleArn, theirs);
    // Refused before any IAM write: no role was made for it.
    assert.equal(await trustOf(`local.${ns}.claimer`), undefined);
    tally.conflicts_caught++;
  });
});
