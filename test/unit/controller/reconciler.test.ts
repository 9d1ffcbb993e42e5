// The real Reconciler, driven through its ports with in-memory IAM and Kubernetes (fakes.ts): every
// rule of a pass (finalizer, operator policy, the role, the ServiceAccount gate, rename, Retain,
// status and verdict) in milliseconds. The e2e suites run the same code against the real servers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANAGED_BY_LABEL,
  OWNER_ANNOTATION,
  SA_ANNOTATIONS,
  type ConditionType,
  type IamServiceAccountSpec,
} from '../../../src/api/types.ts';
import { parseConfig, roleDefaults, type OperatorConfig } from '../../../src/config.ts';
import { TerminalError, WaitError } from '../../../src/errors.ts';
import type { QueueVerdict } from '../../../src/controller/outcome.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { CREATED_ANNOTATION } from '../../../src/controller/serviceaccount.ts';
import { WriteBudget } from '../../../src/aws/budget.ts';
import { KubeApiError } from '../../../src/kube/http.ts';
import { makeLogger } from '../../../src/log.ts';
import { resolveDeniedActions } from '../../../src/policy/actions.ts';
import { ownerTags, type ClusterIdentity } from '../../../src/policy/desired.ts';
import { asArray, parsePolicyDocumentOrEmpty } from '../../../src/policy/document.ts';
import { judgePodIdentityTrust, judgeTrust } from '../../../src/policy/trust-check.ts';
import { buildTrustPolicy, trustPolicyFor } from '../../../src/policy/trust.ts';
import { awsError, encode, FakeEks, FakeIam, FakeKube } from './fakes.ts';

const ACCOUNT = '123456789012';
const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const IDENTITY: ClusterIdentity = {
  clusterName: 'prod',
  partition: 'aws',
  account: ACCOUNT,
  issuerHostPath: ISSUER,
  oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`,
};
const DRIFT_MS = 600_000;
const WAIT_MS = 15_000;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const KEY = 'team/app';
const ROLE = 'prod.team.app';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;

interface WorldOptions {
  config?: Partial<OperatorConfig>;
  /** Drift checked by account-wide sweeps (the FakeIam answers them). */
  sweep?: boolean;
  identity?: () => Promise<ClusterIdentity>;
  /** manageOidcProvider, with the thumbprint the issuer presents. */
  thumbprint?: () => string;
  /** IAM of the accounts besides the own one (the configuration must name them too). */
  accounts?: Record<string, FakeIam>;
}

const DENIED = await resolveDeniedActions(parseConfig({ clusterName: 'prod', region: 'eu-west-1' }));

function world(o: WorldOptions = {}) {
  const config = { ...parseConfig({ clusterName: 'prod', region: 'eu-west-1' }), ...o.config };
  const iam = new FakeIam();
  iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com']);
  const kube = new FakeKube();
  const eks = new FakeEks();
  eks.clusters.set('prod', `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod`);
  let t = Date.UTC(2026, 0, 1);
  const reconciler = new Reconciler(
    {
      roles: iam,
      associations: eks,
      kube,
      cache: kube,
      sweep: o.sweep ? { roles: iam, budget: new WriteBudget(0) } : undefined,
      accounts: (id: string) => {
        const other = o.accounts?.[id];
        return other && { roles: other, sweep: o.sweep ? { roles: other, budget: new WriteBudget(0) } : undefined };
      },
      identity: o.identity ?? (() => Promise.resolve(IDENTITY)),
      provider: o.thumbprint && { cluster: 'prod', thumbprint: (url: string) => Promise.resolve(thumbprintFor(url, o.thumbprint)) },
      log: makeLogger('error', true),
    },
    {
      policy: config,
      defaultAudience: config.defaultAudience,
      stalePods: config.stalePods,
      podRestartsPerMinute: config.podRestartsPerMinute,
      denied: DENIED,
      roleDefaults: roleDefaults(config),
      adoptExistingRoles: config.adoptExistingRoles,
      driftPeriodMs: DRIFT_MS,
      waitMs: WAIT_MS,
      now: () => new Date(t),
      random: () => 0.5,
    },
  );
  const run = async (key = KEY): Promise<QueueVerdict> => {
    const verdict = await reconciler.reconcile(key);
    await reconciler.flush();
    return verdict;
  };
  const cond = (type: ConditionType, key = KEY): [string, string] | undefined => {
    const c = kube.get(key)?.status?.conditions?.find((x) => x.type === type);
    return c && [c.status, c.reason];
  };
  /** Counts of what the next pass writes. */
  const quiet = async (key = KEY) => {
    const [iamBefore, kubeBefore] = [iam.calls.length, kube.writes.length];
    const verdict = await run(key);
    return { verdict, iamCalls: iam.calls.slice(iamBefore), kubeWrites: kube.writes.slice(kubeBefore) };
  };
  const sweep = () => reconciler.sweepDrift(kube.allObjects());
  return { iam, eks, kube, run, cond, quiet, sweep, advance: (ms: number) => (t += ms) };
}

/** The issuer URL the operator asks for is the cluster's. */
function thumbprintFor(url: string, thumbprint: (() => string) | undefined): string {
  assert.equal(url, `https://${ISSUER}`);
  return thumbprint?.() ?? '';
}

const AFTER_DRIFT: QueueVerdict = { kind: 'after', delayMs: DRIFT_MS };
const AFTER_WAIT: QueueVerdict = { kind: 'after', delayMs: WAIT_MS };

/** A role that is not the operator's (made by hand or by Terraform). */
function foreignRole(w: ReturnType<typeof world>, name = ROLE, tags: Record<string, string> = { team: 'a' }, path = '/') {
  w.iam.roles.set(name, {
    name,
    path,
    arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    description: '',
    maxSessionDuration: 3600,
    permissionsBoundary: undefined,
    trustPolicy: encode({ Version: '2012-10-17', Statement: [] }),
    tags,
    managedPolicyArns: [],
    inlinePolicies: {},
  });
}

describe('Reconciler: a new object', () => {
  it('creates the role, then the ServiceAccount, reports Ready and looks again after the drift period', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.iam.writes(), [`CreateRole ${ROLE}`, `AttachRolePolicy ${ROLE}`]);
    const role = w.iam.roles.get(ROLE);
    assert.deepEqual(role?.managedPolicyArns, [S3_READ]);
    assert.deepEqual(role?.tags, ownerTags('prod', 'team', 'app'));
    const sa = w.kube.sa('team', 'app');
    assert.equal(sa?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ROLE_ARN);
    assert.equal(sa?.metadata?.annotations?.[CREATED_ANNOTATION], 'true');
    assert.equal(sa?.metadata?.annotations?.[OWNER_ANNOTATION], 'app');
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.deepEqual(w.cond('RoleSynced'), ['True', 'Synced']);
    assert.deepEqual(w.cond('ServiceAccountSynced'), ['True', 'Synced']);
    assert.equal(w.cond('Reconciling'), undefined);
    const status = w.kube.get(KEY)?.status;
    assert.equal(status?.roleARN, ROLE_ARN);
    assert.equal(status?.serviceAccountName, 'app');
    assert.equal(status?.oidcProviderARN, IDENTITY.oidcProviderArn);
    assert.deepEqual(w.kube.get(KEY)?.metadata.finalizers, ['irsa.dev/finalizer']);
    // One Event for the pass: Ready's transition, with what the pass did.
    assert.deepEqual(w.kube.events, [
      {
        object: KEY,
        type: 'Normal',
        reason: 'Synced',
        message: `ServiceAccount app can assume ${ROLE_ARN} (created IAM role ${ROLE_ARN} (CreateRole, AttachRolePolicy); created ServiceAccount app)`,
      },
    ]);
  });

  it('writes nothing at all on the next pass of the same generation (quiet at rest)', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    const again = await w.quiet();
    assert.deepEqual(again, { verdict: AFTER_DRIFT, iamCalls: [], kubeWrites: [] });
  });

  it('re-reads IAM after the drift period and repairs what changed behind its back', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    await w.run();
    const role = w.iam.roles.get(ROLE);
    assert.ok(role);
    role.managedPolicyArns = [];
    role.tags.extra = 'x';
    w.advance(DRIFT_MS + 1);
    const { verdict, iamCalls, kubeWrites } = await w.quiet();
    assert.deepEqual(verdict, AFTER_DRIFT);
    assert.ok(iamCalls.includes(`read ${ROLE}`));
    assert.deepEqual(w.iam.writes().slice(-2), [`UntagRole ${ROLE}`, `AttachRolePolicy ${ROLE}`]);
    assert.deepEqual(w.iam.roles.get(ROLE)?.managedPolicyArns, [S3_READ]);
    assert.deepEqual(kubeWrites, ['createEvent team/app'], 'an Event for the repair; status unchanged');
  });

  it('a spec change (new generation) is read and applied at once, without waiting for the drift period', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.kube.updateSpec(KEY, { tags: { team: 'a' }, maxSessionDuration: 7200 });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.iam.writes().slice(-2), [`UpdateRole ${ROLE}`, `TagRole ${ROLE}`]);
    assert.equal(w.iam.roles.get(ROLE)?.maxSessionDuration, 7200);
    assert.equal(w.kube.get(KEY)?.status?.observedGeneration, 2);
  });

  it('a spec change within the memory of the last sync writes only the difference: no IAM read', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    await w.run();
    w.kube.updateSpec(KEY, { attachPolicyARNs: [S3_READ], tags: { team: 'a' } });
    const { iamCalls } = await w.quiet();
    assert.deepEqual(iamCalls, [`TagRole ${ROLE}`]);
    assert.equal(w.iam.roles.get(ROLE)?.tags.team, 'a');
    assert.equal(w.kube.get(KEY)?.status?.observedGeneration, 2);
  });

  it('a spec change after the memory ran out reads the role first', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.advance(DRIFT_MS + 1);
    w.kube.updateSpec(KEY, { tags: { team: 'a' } });
    const { iamCalls } = await w.quiet();
    assert.deepEqual(
      iamCalls.filter((c) => !c.startsWith('oidcProvider ')),
      [`read ${ROLE}`, `TagRole ${ROLE}`],
    );
  });

  it('IAM not as remembered (the role deleted behind its back): the write fails, the next pass reads and recreates it', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.iam.roles.delete(ROLE);
    w.kube.updateSpec(KEY, { tags: { team: 'a' } });
    assert.equal((await w.run()).kind, 'retry');
    await w.run();
    assert.equal(w.iam.roles.get(ROLE)?.tags.team, 'a');
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it("a pass handed an object the operator's own writes replaced (a lagging cache) writes nothing and waits for the watch", async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    const stale = w.kube.get(KEY);
    await w.run();
    const written = w.kube.get(KEY)?.status;
    assert.ok(written?.roleARN);
    // The next pass is handed the object as it was before the first pass's writes.
    const object = w.kube.object.bind(w.kube);
    w.kube.object = () => structuredClone(stale);
    const writes = w.kube.writes.length;
    const calls = w.iam.calls.length;
    assert.deepEqual(await w.run(), { kind: 'done' }, 'the watch event of the newer object enqueues the key again');
    assert.equal(w.kube.writes.length, writes, 'no write that could only meet a conflict');
    assert.equal(w.iam.calls.length, calls);
    w.kube.object = object;
    assert.deepEqual(w.kube.get(KEY)?.status, written);
    assert.deepEqual(await w.quiet(), { verdict: AFTER_DRIFT, iamCalls: [], kubeWrites: [] }, 'the current object: in sync');
  });

  it('a pass that worked from an object someone else changed since does not overwrite the status a newer pass wrote', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.iam.failNext('apply', awsError('Throttling', 'Rate exceeded'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    const failedPass = w.kube.get(KEY);
    assert.deepEqual(w.cond('Ready'), ['False', 'AwsThrottling']);
    // Someone else edits the spec; the next pass writes the status of the new generation.
    w.kube.updateSpec(KEY, { tags: { team: 'a' } });
    await w.run();
    const written = w.kube.get(KEY)?.status;
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    // A pass handed the object as it was before that edit (a version the operator did not replace).
    const object = w.kube.object.bind(w.kube);
    w.kube.object = () => structuredClone(failedPass);
    assert.deepEqual(await w.run(), { kind: 'retry' }, 'its status write meets a conflict');
    w.kube.object = object;
    assert.deepEqual(w.kube.get(KEY)?.status, written);
  });

  it('roleOnly: a role and no ServiceAccount, no ServiceAccountSynced condition', async () => {
    const w = world();
    w.kube.create('app', 'team', { roleOnly: true });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.ok(w.iam.roles.has(ROLE));
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.equal(w.cond('ServiceAccountSynced'), undefined);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it('an object gone from the cache is done', async () => {
    const w = world();
    assert.deepEqual(await w.run('team/none'), { kind: 'done' });
    assert.deepEqual(w.iam.calls, []);
  });
});

describe('Reconciler: the ServiceAccount waits for the role', () => {
  it('an IAM failure leaves the ServiceAccount untouched and backs off', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.iam.failNext('apply', awsError('Throttling', 'Rate exceeded'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.deepEqual(w.cond('RoleSynced'), ['Unknown', 'AwsThrottling']);
    assert.deepEqual(w.cond('ServiceAccountSynced'), ['Unknown', 'WaitingForRole']);
    assert.deepEqual(w.cond('Ready'), ['False', 'AwsThrottling']);
    assert.deepEqual(w.cond('Reconciling'), ['True', 'AwsThrottling']);
    assert.deepEqual(await w.run(), AFTER_DRIFT, 'the next pass converges');
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it('no OIDC provider: waits (no backoff), creates nothing', async () => {
    const w = world();
    w.iam.providers.clear();
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.iam.writes(), []);
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.deepEqual(w.cond('Ready'), ['False', 'OIDCProviderNotFound']);
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com']);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it('a terminal IAM error stalls the object and drops the key', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.iam.failNext('apply', new TerminalError('AwsMalformedPolicyDocument', 'CreateRole: bad document'));
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Stalled'), ['True', 'AwsMalformedPolicyDocument']);
    assert.deepEqual(w.cond('RoleSynced'), ['False', 'AwsMalformedPolicyDocument']);
  });

  it('a transient read failure backs off with the role Unknown', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.advance(DRIFT_MS + 1);
    w.iam.failNext('read', awsError('ServiceUnavailable'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    assert.deepEqual(w.cond('RoleSynced'), ['Unknown', 'AwsServiceUnavailable']);
  });
});

describe('Reconciler: other clusters and subject patterns', () => {
  const OTHER = 'oidc.eks.us-west-2.amazonaws.com/id/B';
  const OTHER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${OTHER}`;
  const twoClusters = { additionalClusters: [{ issuer: `https://${OTHER}` }] };
  const allowed = { allowedIssuers: [`https://${OTHER}`] };

  it("another cluster's provider missing: waits naming the entry, writes nothing, then converges once it exists", async () => {
    const w = world({ config: allowed });
    w.kube.create('app', 'team', twoClusters);
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.iam.writes(), []);
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.deepEqual(w.cond('Ready'), ['False', 'OIDCProviderNotFound']);
    const ready = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.match(ready?.message ?? '', new RegExp(`IAM has no OIDC provider ${OTHER_ARN} for spec\\.additionalClusters\\[0\\]`));
    w.iam.setProvider(OTHER_ARN, ['sts.amazonaws.com']);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.deepEqual(w.cond('TrustVerified'), ['True', 'TrustAdmitsServiceAccount']);
    const trust = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'TrustVerified');
    assert.match(trust?.message ?? '', new RegExp(`tokens of the other clusters: system:serviceaccount:team:app from ${OTHER}`));
    const statements = JSON.parse(decodeURIComponent(w.iam.roles.get(ROLE)?.trustPolicy ?? '')) as { Statement: unknown[] };
    assert.equal(statements.Statement.length, 2);
  });

  it('a trust IAM holds with its statements in another order: TrustVerified names the statement IAM has, also on the passes that read nothing', async () => {
    const w = world({ config: allowed });
    w.iam.setProvider(OTHER_ARN, ['sts.amazonaws.com']);
    w.kube.create('app', 'team', twoClusters);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    const trustMessage = () => w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'TrustVerified')?.message ?? '';
    const ownStatement = /admits a token for system:serviceaccount:team:app .*? \(statement (\d)\)/;
    assert.equal(ownStatement.exec(trustMessage())?.[1], '0');
    const role = w.iam.roles.get(ROLE);
    assert.ok(role);
    const doc = JSON.parse(decodeURIComponent(role.trustPolicy)) as { Statement: unknown[] };
    w.iam.roles.set(ROLE, { ...role, trustPolicy: encodeURIComponent(JSON.stringify({ ...doc, Statement: doc.Statement.toReversed() })) });
    w.advance(DRIFT_MS + 1);
    const read = await w.quiet();
    assert.ok(read.iamCalls.includes(`read ${ROLE}`), 'the memory is gone: the pass reads the role');
    assert.deepEqual(
      read.iamCalls.filter((c) => !/^(read|oidcProvider|policy)/.test(c)),
      [],
      'the same trust in another order: nothing written',
    );
    assert.equal(ownStatement.exec(trustMessage())?.[1], '1');
    const fresh = await w.quiet();
    assert.deepEqual(fresh.iamCalls, [], 'the next pass reads nothing');
    assert.deepEqual(fresh.kubeWrites, [], 'and leaves the status as it is');
    assert.equal(ownStatement.exec(trustMessage())?.[1], '1');
  });

  it("another cluster's provider without the audience: AudienceNotAllowedByProvider, nothing written", async () => {
    const w = world({ config: allowed });
    w.iam.setProvider(OTHER_ARN, ['vault']);
    w.kube.create('app', 'team', twoClusters);
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.iam.writes(), []);
    assert.deepEqual(w.cond('Ready'), ['False', 'AudienceNotAllowedByProvider']);
  });

  it('an issuer not allowed: IssuerNotAllowed, stalled, no AWS call', async () => {
    const w = world();
    w.iam.setProvider(OTHER_ARN, ['sts.amazonaws.com']);
    w.kube.create('app', 'team', twoClusters);
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.iam.calls, []);
    assert.deepEqual(w.cond('Stalled'), ['True', 'IssuerNotAllowed']);
  });

  it('over trustPolicyLimit: TrustPolicyTooLarge before any AWS call', async () => {
    const issuers = ['a', 'b', 'c', 'd'].map((c) => `https://${c}.example.com/${'p'.repeat(120)}`);
    const w = world({ config: { allowedIssuers: issuers } });
    w.kube.create('app', 'team', { additionalClusters: issuers.map((issuer) => ({ issuer })) });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.iam.calls, []);
    assert.deepEqual(w.cond('Stalled'), ['True', 'TrustPolicyTooLarge']);
  });

  it("the other cluster's statement removed by hand: found by the sweep, written back by the pass", async () => {
    const w = world({ config: allowed, sweep: true });
    w.iam.setProvider(OTHER_ARN, ['sts.amazonaws.com']);
    w.kube.create('app', 'team', twoClusters);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    const full = w.iam.roles.get(ROLE)?.trustPolicy ?? '';
    const doc = JSON.parse(decodeURIComponent(full)) as { Statement: unknown[] };
    w.iam.edit(ROLE, { trustPolicy: encode({ ...doc, Statement: doc.Statement.slice(0, 1) }) });
    assert.deepEqual(await w.sweep(), { drifted: [KEY], inSync: 0 });
    await w.run();
    assert.ok(
      w.iam.writes().some((c) => c.startsWith('UpdateAssumeRolePolicy')),
      w.iam.writes().join(', '),
    );
    assert.equal(w.iam.roles.get(ROLE)?.trustPolicy, full);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it('a subject pattern: off by default, Ready where allowed, the named ServiceAccount annotated', async () => {
    const off = world();
    off.kube.create('app', 'team', { serviceAccount: { name: 'ci-runner' }, subjectPattern: 'ci-*' });
    assert.deepEqual(await off.run(), { kind: 'drop' });
    assert.deepEqual(off.cond('Ready'), ['False', 'SubjectPatternNotAllowed']);
    assert.deepEqual(off.iam.calls, []);

    const on = world({ config: { subjectPatternNamespaces: ['team'] } });
    on.kube.create('app', 'team', { serviceAccount: { name: 'ci-runner' }, subjectPattern: 'ci-*' });
    assert.deepEqual(await on.run(), AFTER_DRIFT);
    assert.deepEqual(on.cond('Ready'), ['True', 'Synced']);
    assert.ok(on.kube.sa('team', 'ci-runner'));
    const doc = JSON.parse(decodeURIComponent(on.iam.roles.get(ROLE)?.trustPolicy ?? '')) as { Statement: { Condition: unknown }[] };
    assert.deepEqual(doc.Statement[0]?.Condition, {
      StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' },
      StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:team:ci-*' },
    });
  });
});

describe('Reconciler: roles that are not this object’s', () => {
  it('a chosen roleName is read before any write: a role that is not the object’s sees not even a failed CreateRole', async () => {
    const w = world();
    foreignRole(w, 'chosen');
    w.kube.create('app', 'team', { roleName: 'chosen' });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.iam.writes(), []);
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleNotOwned']);
  });

  it('a new object whose derived name has a leftover role of its own (Retain, then created again) takes it back', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.kube.updateSpec(KEY, { deletionPolicy: 'Retain' });
    await w.run();
    w.kube.delete(KEY);
    await w.run();
    assert.ok(w.iam.roles.has(ROLE), 'retained');
    w.kube.create('app', 'team', { tags: { again: 'yes' } });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.equal(w.iam.roles.get(ROLE)?.tags.again, 'yes');
  });

  it('RoleNotOwned: a role of that name without ownership tags is never written', async () => {
    const w = world();
    foreignRole(w);
    const before = structuredClone(w.iam.roles.get(ROLE));
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    // A new object with a derived name creates without reading first: IAM refuses the CreateRole.
    assert.deepEqual(w.iam.writes(), [`CreateRole ${ROLE}`]);
    assert.deepEqual(w.iam.roles.get(ROLE), before);
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleNotOwned']);
    assert.deepEqual(w.cond('Stalled'), ['True', 'RoleNotOwned']);
    assert.equal(w.kube.sa('team', 'app'), undefined);
  });

  it('adoptExistingRoles: such a role is taken over and tagged', async () => {
    const w = world({ config: { adoptExistingRoles: true } });
    foreignRole(w);
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.iam.roles.get(ROLE)?.tags, ownerTags('prod', 'team', 'app'));
  });

  it('RoleConflict: a role owned by another IamServiceAccount, even with adoption on', async () => {
    const w = world({ config: { adoptExistingRoles: true } });
    foreignRole(w, ROLE, ownerTags('prod', 'team', 'other'));
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleConflict']);
    assert.match(w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /team\/other in cluster prod/);
    assert.deepEqual(w.iam.writes(), []);
  });

  it('RolePathMismatch: IAM cannot move a role', async () => {
    const w = world();
    foreignRole(w, ROLE, ownerTags('prod', 'team', 'app'), '/old/');
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'RolePathMismatch']);
  });
});

describe('Reconciler: drift checked by account-wide sweeps', () => {
  const reads = (w: ReturnType<typeof world>) => w.iam.calls.filter((c) => /^(read|readTrust) /.test(c)).length;

  it('a role that matches: the sweep renews the memory, so the periodic pass reads nothing', async () => {
    const w = world({ sweep: true });
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    const before = reads(w);
    w.advance(DRIFT_MS - 1000);
    assert.deepEqual(await w.sweep(), { drifted: [], inSync: 1 });
    w.advance(2000);
    const { iamCalls, kubeWrites } = await w.quiet();
    assert.deepEqual(kubeWrites, []);
    // The OIDC provider is read once per drift period for the whole cluster, not per object.
    assert.deepEqual(
      iamCalls.filter((c) => !c.startsWith('oidcProvider ')),
      [],
      'no read of its own after the drift period',
    );
    assert.equal(reads(w), before);
  });

  it('while sweeps succeed, a full sync is remembered for two periods: one failed sweep costs no reads', async () => {
    const w = world({ sweep: true });
    assert.deepEqual(await w.sweep(), { drifted: [], inSync: 0 });
    w.kube.create('app', 'team', {});
    await w.run();
    w.iam.failNext('sweep', new Error('moto answered 500'));
    await assert.rejects(w.sweep(), /moto answered 500/);
    w.advance(DRIFT_MS + DRIFT_MS / 2);
    const before = reads(w);
    await w.run();
    assert.equal(reads(w), before, 'remembered across the failed sweep');
    w.advance(DRIFT_MS);
    await w.run();
    assert.equal(reads(w), before + 1, 'two periods after the sync the memory has run out: the pass reads');
  });

  it('before the first sweep, a sync is remembered for two periods already (the first sweep may come late)', async () => {
    const w = world({ sweep: true });
    w.kube.create('app', 'team', {});
    await w.run();
    w.advance(DRIFT_MS + DRIFT_MS / 2);
    const before = reads(w);
    await w.run();
    assert.equal(reads(w), before);
  });

  it('a denied sweep (no iam:GetAccountAuthorizationDetails) brings the memory back to one period', async () => {
    const w = world({ sweep: true });
    // A sweep runs only over objects: another one first.
    w.kube.create('other', 'team', {});
    await w.run('team/other');
    w.iam.failNext('sweep', awsError('AccessDenied', 'not authorized to perform iam:GetAccountAuthorizationDetails'));
    await assert.rejects(w.sweep(), /not authorized/);
    w.kube.create('app', 'team', {});
    await w.run();
    w.advance(DRIFT_MS + 1);
    const before = reads(w);
    await w.run();
    assert.equal(reads(w), before + 1);
  });

  it('without a sweep the memory runs out after a drift period and the pass reads the role (the fallback)', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.advance(DRIFT_MS + 1);
    const before = reads(w);
    await w.run();
    assert.equal(reads(w), before + 1);
  });

  const drifts: [string, (w: ReturnType<typeof world>) => void, string][] = [
    [
      'a trust edited by hand',
      (w) => w.iam.edit(ROLE, { trustPolicy: encode({ Version: '2012-10-17', Statement: [] }) }),
      'UpdateAssumeRolePolicy',
    ],
    ['a policy detached', (w) => w.iam.edit(ROLE, { managedPolicyArns: [] }), 'AttachRolePolicy'],
    [
      'an extra policy attached',
      (w) => w.iam.edit(ROLE, { managedPolicyArns: [S3_READ, 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'] }),
      'DetachRolePolicy',
    ],
    ['a tag added by hand', (w) => w.iam.edit(ROLE, { tags: { ...w.iam.roles.get(ROLE)?.tags, extra: 'x' } }), 'UntagRole'],
    ['the session duration changed', (w) => w.iam.edit(ROLE, { maxSessionDuration: 43200 }), 'UpdateRole'],
    ['the role deleted', (w) => w.iam.roles.delete(ROLE), 'CreateRole'],
  ];
  for (const [name, drift, repair] of drifts) {
    it(`${name}: found by the sweep, repaired by the pass it enqueues`, async () => {
      const w = world({ sweep: true });
      w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
      await w.run();
      drift(w);
      assert.deepEqual(await w.sweep(), { drifted: [KEY], inSync: 0 });
      await w.run();
      assert.ok(
        w.iam.writes().some((c) => c.startsWith(repair)),
        `${repair} in ${w.iam.writes().join(', ')}`,
      );
      assert.deepEqual(await w.sweep(), { drifted: [], inSync: 1 });
    });
  }

  it('a new default version of an attached policy sends the objects through a full pass', async () => {
    const w = world({ sweep: true });
    const arn = `arn:aws:iam::${ACCOUNT}:policy/app`;
    w.iam.setPolicy(arn, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    w.kube.create('app', 'team', { attachPolicyARNs: [arn] });
    await w.run();
    assert.deepEqual(await w.sweep(), { drifted: [], inSync: 1 });
    w.iam.setPolicy(arn, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }] });
    assert.deepEqual(await w.sweep(), { drifted: [KEY], inSync: 0 });
    w.advance(61_000);
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'PolicyGrantsDeniedAction']);
  });

  it("ownership tags removed by hand: found, and the pass says the role is no longer the object's", async () => {
    const w = world({ sweep: true });
    w.kube.create('app', 'team', {});
    await w.run();
    w.iam.edit(ROLE, { tags: {} });
    assert.deepEqual(await w.sweep(), { drifted: [KEY], inSync: 0 });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleNotOwned']);
  });

  it('an attachRoleARN role whose trust stops admitting the ServiceAccount is found', async () => {
    const w = world({ sweep: true });
    foreignRole(w, 'existing');
    const role = w.iam.roles.get('existing');
    assert.ok(role);
    role.trustPolicy = encode(
      buildTrustPolicy({
        oidcProviderArn: IDENTITY.oidcProviderArn,
        issuerHostPath: ISSUER,
        namespace: 'team',
        serviceAccountName: 'app',
        audience: 'sts.amazonaws.com',
      }),
    );
    w.kube.create('app', 'team', { attachRoleARN: `arn:aws:iam::${ACCOUNT}:role/existing` });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    role.trustPolicy = encode({ Version: '2012-10-17', Statement: [] });
    assert.deepEqual(await w.sweep(), { drifted: [KEY], inSync: 0 });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'TrustPolicyMismatch']);
  });

  it('no sweep configured: nothing to do', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    assert.deepEqual(await w.sweep(), { drifted: [], inSync: 0 });
  });
});

describe('Reconciler: attachRoleARN', () => {
  const attached = (w: ReturnType<typeof world>, trust: unknown, name = 'existing') => {
    foreignRole(w, name);
    const role = w.iam.roles.get(name);
    assert.ok(role);
    role.trustPolicy = encode(trust);
  };
  const trustFor = (sa: string) =>
    buildTrustPolicy({
      oidcProviderArn: IDENTITY.oidcProviderArn,
      issuerHostPath: ISSUER,
      namespace: 'team',
      serviceAccountName: sa,
      audience: 'sts.amazonaws.com',
    });
  const ARN = `arn:aws:iam::${ACCOUNT}:role/existing`;

  it('a role that trusts the ServiceAccount: Ready, the ServiceAccount annotated, no IAM write', async () => {
    const w = world();
    attached(w, trustFor('app'));
    w.kube.create('app', 'team', { attachRoleARN: ARN });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.iam.writes(), []);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ARN);
  });

  it('RoleNotFound: waits for the role to be made', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachRoleARN: ARN });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleNotFound']);
    assert.equal(w.kube.sa('team', 'app'), undefined);
  });

  it('RoleArnMismatch: the name exists under another path (terminal)', async () => {
    const w = world();
    foreignRole(w, 'existing', {}, '/other/');
    w.kube.create('app', 'team', { attachRoleARN: ARN });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'RoleArnMismatch']);
  });

  it('TrustPolicyMismatch: the role trusts another ServiceAccount; the message holds the statement to add', async () => {
    const w = world();
    attached(w, trustFor('someone-else'));
    w.kube.create('app', 'team', { attachRoleARN: ARN });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'TrustPolicyMismatch']);
    const message = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.match(message, /system:serviceaccount:team:app/);
    assert.equal(w.kube.sa('team', 'app'), undefined);
  });
});

describe('Reconciler: the trust, judged as IAM judges it', () => {
  const ARN = `arn:aws:iam::${ACCOUNT}:role/existing`;
  const sub = `${ISSUER}:sub`;
  const aud = `${ISSUER}:aud`;
  const seed = (condition: Record<string, unknown> | undefined, extra: unknown[] = []) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: IDENTITY.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
      ...extra,
    ],
  });
  const withTrust = (trust: unknown) => {
    const w = world();
    foreignRole(w, 'existing');
    const role = w.iam.roles.get('existing');
    assert.ok(role);
    role.trustPolicy = encode(trust);
    return w;
  };
  // The four documents IAM admits a ServiceAccount under that the old hand-written check refused.
  const admitted: [string, unknown][] = [
    ['sub only', seed({ StringEquals: { [sub]: 'system:serviceaccount:team:app' } })],
    ['a StringLike namespace wildcard', seed({ StringLike: { [sub]: 'system:serviceaccount:team:*' } })],
    [
      'a StringEquals list naming two ServiceAccounts',
      seed({ StringEquals: { [sub]: ['system:serviceaccount:jobs:x', 'system:serviceaccount:team:app'] } }),
    ],
    ['aud only (a role shared across accounts)', seed({ StringEquals: { [aud]: 'sts.amazonaws.com' } })],
    [
      'a Deny on sts for another namespace',
      seed(undefined, [
        { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { StringLike: { [sub]: 'system:serviceaccount:jobs:*' } } },
      ]),
    ],
  ];
  for (const [name, trust] of admitted) {
    it(`attachRoleARN with ${name}: Ready, TrustVerified names the statement`, async () => {
      const w = withTrust(trust);
      w.kube.create('app', 'team', { attachRoleARN: ARN });
      assert.deepEqual(await w.run(), AFTER_DRIFT);
      assert.deepEqual(w.cond('TrustVerified'), ['True', 'TrustAdmitsServiceAccount']);
      assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
      const message = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'TrustVerified')?.message ?? '';
      assert.match(message, /admits a token for system:serviceaccount:team:app with audience sts.amazonaws.com .* \(statement 0\)/);
    });
  }

  const refused: [string, unknown, RegExp][] = [
    [
      'a wildcard for another namespace',
      seed({ StringLike: { [sub]: 'system:serviceaccount:jobs:*' } }),
      /no statement of the trust policy/,
    ],
    ['another audience', seed({ StringEquals: { [aud]: 'vault' } }), /no statement of the trust policy/],
    [
      'a Deny of this namespace',
      seed(undefined, [
        {
          Sid: 'NoTeam',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sts:*',
          Condition: { StringLike: { [sub]: 'system:serviceaccount:team:*' } },
        },
      ]),
      /^statement "NoTeam" of the trust policy .* denies a token for system:serviceaccount:team:app/,
    ],
  ];
  for (const [name, trust, message] of refused) {
    it(`attachRoleARN with ${name}: TrustPolicyMismatch, TrustVerified False, the ServiceAccount not annotated`, async () => {
      const w = withTrust(trust);
      w.kube.create('app', 'team', { attachRoleARN: ARN });
      assert.deepEqual(await w.run(), AFTER_WAIT);
      assert.deepEqual(w.cond('TrustVerified'), ['False', 'TrustPolicyMismatch']);
      assert.deepEqual(w.cond('Ready'), ['False', 'TrustPolicyMismatch']);
      assert.match(w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', message);
      assert.equal(w.kube.sa('team', 'app'), undefined);
    });
  }

  it('a managed role: TrustVerified True on Ready, judged on the trust it wrote', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('TrustVerified'), ['True', 'TrustAdmitsServiceAccount']);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it('AudienceNotAllowedByProvider: nothing written until the provider lists the audience, then Ready', async () => {
    const w = world();
    w.kube.create('app', 'team', { audience: 'test' });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'AudienceNotAllowedByProvider']);
    assert.deepEqual(w.cond('TrustVerified'), ['False', 'AudienceNotAllowedByProvider']);
    const message = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.match(message, new RegExp(`provider ${IDENTITY.oidcProviderArn} accepts the audiences sts.amazonaws.com, not test`));
    assert.deepEqual(w.iam.writes(), []);
    assert.equal(w.kube.sa('team', 'app'), undefined);
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com', 'test']);
    assert.deepEqual(await w.run(), AFTER_DRIFT, 'the provider is read again after a refusal');
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.audience], 'test');
  });

  it('the default audience is the STS audience the provider lists (a self-managed China cluster)', async () => {
    const w = world();
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com.cn']);
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.audience], 'sts.amazonaws.com.cn');
    assert.match(w.iam.roles.get(ROLE)?.trustPolicy ?? '', /sts.amazonaws.com.cn/);
  });

  it('the configured defaultAudience wins over the provider', async () => {
    const w = world({ config: { defaultAudience: 'vault' } });
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com', 'vault']);
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.audience], 'vault');
  });

  it('the provider is read once per drift period, not per pass', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.kube.create('app2', 'team', {});
    await w.run();
    await w.run('team/app2');
    assert.equal(w.iam.calls.filter((c) => c.startsWith('oidcProvider ')).length, 1);
  });
});

describe('Reconciler: pods that predate the role annotations', () => {
  const RECHECK = { kind: 'after', delayMs: 60_000 };
  const overridden = { serviceAccount: { overrideExisting: true } };
  /** A ServiceAccount that exists before the object, with pods already running under it. */
  function withPods(config: Partial<OperatorConfig> = {}) {
    const w = world({ config });
    w.kube.putServiceAccount('team', 'app');
    w.kube.addPod('team', 'debug', 'app');
    w.kube.replicaSets.set('team/web-5d8f', { kind: 'Deployment', name: 'web' });
    w.kube.addPod('team', 'web-5d8f-a', 'app', { kind: 'ReplicaSet', name: 'web-5d8f' });
    w.kube.addPod('team', 'web-5d8f-b', 'app', { kind: 'ReplicaSet', name: 'web-5d8f' });
    w.kube.addPod('team', 'other', 'someone-else');
    return w;
  }
  const podsStatus = (w: ReturnType<typeof world>) => w.kube.get(KEY)?.status?.podsNeedingRestart;
  const restarts = (w: ReturnType<typeof world>) => w.kube.writes.filter((x) => x.startsWith('restartWorkload'));

  it('reports them in status and one Warning Event naming their owners, and looks again within a minute', async () => {
    const w = withPods();
    w.kube.create('app', 'team', overridden);
    assert.deepEqual(await w.run(), RECHECK);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced'], 'new pods get the role: Ready stays true');
    assert.deepEqual(podsStatus(w), { count: 3, pods: ['debug', 'web-5d8f-a', 'web-5d8f-b'] });
    const warnings = w.kube.events.filter((e) => e.reason === 'PodsNeedRestart');
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]?.message ?? '',
      /^3 pods of ServiceAccount app started before its role annotations .*: Pod\/debug, Deployment\/web \(2 pods\): restart them/,
    );
    assert.deepEqual(restarts(w), [], 'report mode restarts nothing');
    assert.deepEqual(await w.run(), RECHECK);
    assert.equal(w.kube.events.filter((e) => e.reason === 'PodsNeedRestart').length, 1, 'no second Event for the same pods');
  });

  it('the count goes once the pods are replaced, and the object is quiet again', async () => {
    const w = withPods();
    w.kube.create('app', 'team', overridden);
    await w.run();
    for (const name of ['debug', 'web-5d8f-a', 'web-5d8f-b']) w.kube.addPod('team', name, 'app');
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(podsStatus(w), undefined);
    const { kubeWrites } = await w.quiet();
    assert.deepEqual(kubeWrites, []);
    const lists = w.kube.podLists.length;
    await w.run();
    assert.equal(w.kube.podLists.length, lists, 'no pod list at rest');
  });

  it('stalePods restart and spec.restartPods: the Deployment is restarted once, the bare pod only reported', async () => {
    const w = withPods({ stalePods: 'restart' });
    w.kube.create('app', 'team', { ...overridden, restartPods: true });
    assert.deepEqual(await w.run(), RECHECK);
    assert.deepEqual(restarts(w), ['restartWorkload team/Deployment/web']);
    assert.ok(w.kube.events.some((e) => e.message.includes('restarted Deployment/web so that its pods get the role')));
    await w.run();
    assert.deepEqual(restarts(w), ['restartWorkload team/Deployment/web'], 'a rollout in progress is not restarted again');
  });

  for (const [name, config, spec] of [
    ['stalePods restart without spec.restartPods', { stalePods: 'restart' }, overridden],
    ['spec.restartPods under stalePods report', { stalePods: 'report' }, { ...overridden, restartPods: true }],
  ] as const) {
    it(`${name}: reported, not restarted`, async () => {
      const w = withPods(config);
      w.kube.create('app', 'team', spec);
      await w.run();
      assert.equal(podsStatus(w)?.count, 3);
      assert.deepEqual(restarts(w), []);
    });
  }

  it('restarts stay within podRestartsPerMinute', async () => {
    const w = withPods({ stalePods: 'restart', podRestartsPerMinute: 1 });
    w.kube.replicaSets.set('team/api-7c9d', { kind: 'Deployment', name: 'api' });
    w.kube.addPod('team', 'api-7c9d-a', 'app', { kind: 'ReplicaSet', name: 'api-7c9d' });
    w.kube.create('app', 'team', { ...overridden, restartPods: true });
    await w.run();
    assert.equal(restarts(w).length, 1);
  });

  it('an audience change makes the running pods stale', async () => {
    const w = world();
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com', 'vault']);
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    w.kube.addPod('team', 'web', 'app');
    w.kube.updateSpec(KEY, { audience: 'vault' });
    assert.deepEqual(await w.run(), RECHECK);
    assert.deepEqual(podsStatus(w), { count: 1, pods: ['web'] });
  });

  it('stalePods off: no pod is ever listed', async () => {
    const w = withPods({ stalePods: 'off' });
    w.kube.create('app', 'team', overridden);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(podsStatus(w), undefined);
    assert.deepEqual(w.kube.podLists, []);
  });

  it('a failed pod list (no RBAC for pods) keeps the object Ready and status as it was', async () => {
    const w = withPods();
    w.kube.failNext('listPods', new Error('pods is forbidden'));
    w.kube.create('app', 'team', overridden);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.equal(podsStatus(w), undefined);
  });
});

describe('Reconciler: the ServiceAccount', () => {
  it('ServiceAccountExists: an existing ServiceAccount stops the object before any IAM write', async () => {
    const w = world();
    w.kube.putServiceAccount('team', 'app');
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.iam.writes(), []);
    assert.deepEqual(w.cond('Ready'), ['False', 'ServiceAccountExists']);
  });

  it('ServiceAccountConflict: a ServiceAccount another object owns', async () => {
    const w = world();
    w.kube.putServiceAccount('team', 'app', { [MANAGED_BY_LABEL]: 'irsa-operator' }, { [OWNER_ANNOTATION]: 'other' });
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'ServiceAccountConflict']);
    assert.deepEqual(w.iam.writes(), []);
  });

  it('overrideExisting: annotates a ServiceAccount it did not create, keeps its other fields, and gives them back on delete', async () => {
    const w = world();
    w.kube.putServiceAccount('team', 'app', { 'app.kubernetes.io/managed-by': 'Helm' }, { 'meta.helm.sh/release-name': 'r' });
    w.kube.create('app', 'team', { serviceAccount: { overrideExisting: true } });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    const sa = w.kube.sa('team', 'app');
    assert.equal(sa?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ROLE_ARN);
    assert.equal(sa?.metadata?.annotations?.[CREATED_ANNOTATION], undefined);
    assert.equal(sa?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    const after = w.kube.sa('team', 'app');
    assert.ok(after, 'not deleted: the operator did not create it');
    assert.deepEqual(after.metadata?.annotations, { 'meta.helm.sh/release-name': 'r' });
    assert.deepEqual(after.metadata?.labels, { 'app.kubernetes.io/managed-by': 'Helm' });
  });

  it('create: false and no ServiceAccount: the role is made, the ServiceAccount waited for', async () => {
    const w = world();
    w.kube.create('app', 'team', { serviceAccount: { create: false } });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.ok(w.iam.roles.has(ROLE));
    assert.deepEqual(w.cond('ServiceAccountSynced'), ['Unknown', 'ServiceAccountNotFound']);
    w.kube.putServiceAccount('team', 'app');
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ROLE_ARN);
  });

  it('a rename deletes the old ServiceAccount it created and moves status to the new one', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.kube.updateSpec(KEY, { serviceAccount: { name: 'renamed' } });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.equal(w.kube.sa('team', 'renamed')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ROLE_ARN);
    assert.equal(w.kube.get(KEY)?.status?.serviceAccountName, 'renamed');
    const trust = decodeURIComponent(w.iam.roles.get(ROLE)?.trustPolicy ?? '');
    assert.match(trust, /system:serviceaccount:team:renamed/);
  });

  it("a label or annotation removed from the spec is removed from the ServiceAccount; other managers' keys stay", async () => {
    const w = world();
    w.kube.putServiceAccount('team', 'app', { chart: 'app-1.0' }, { 'meta.helm.sh/release-name': 'r' });
    w.kube.create('app', 'team', {
      serviceAccount: { overrideExisting: true, labels: { tier: 'web', team: 'a' }, annotations: { note: 'x' } },
    });
    await w.run();
    assert.equal(w.kube.sa('team', 'app')?.metadata?.labels?.tier, 'web');
    w.kube.updateSpec(KEY, { serviceAccount: { overrideExisting: true, labels: { team: 'a' } } });
    const { kubeWrites } = await w.quiet();
    assert.ok(kubeWrites.includes('applyServiceAccount team/app'));
    const sa = w.kube.sa('team', 'app');
    assert.equal(sa?.metadata?.labels?.tier, undefined);
    assert.equal(sa?.metadata?.annotations?.note, undefined);
    assert.equal(sa?.metadata?.labels?.team, 'a');
    assert.equal(sa?.metadata?.labels?.chart, 'app-1.0');
    assert.equal(sa?.metadata?.annotations?.['meta.helm.sh/release-name'], 'r');
    assert.deepEqual((await w.quiet()).kubeWrites, [], 'then quiet again');
  });

  it('an annotation removed behind its back is put back on the next pass', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.kube.putServiceAccount(
      'team',
      'app',
      { [MANAGED_BY_LABEL]: 'irsa-operator' },
      { [OWNER_ANNOTATION]: 'app', [CREATED_ANNOTATION]: 'true' },
    );
    const { kubeWrites } = await w.quiet();
    assert.ok(kubeWrites.includes('applyServiceAccount team/app'));
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], ROLE_ARN);
  });
});

describe('Reconciler: deletion', () => {
  it('deletionPolicy Delete: the ServiceAccount, then the role, then the finalizer', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    await w.run();
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.equal(w.iam.roles.has(ROLE), false);
    assert.equal(w.kube.get(KEY), undefined, 'the object is gone with its finalizer');
    assert.ok(w.kube.events.some((e) => e.reason === 'RoleDeleted'));
  });

  it('deletionPolicy Retain: the role stays', async () => {
    const w = world();
    w.kube.create('app', 'team', { deletionPolicy: 'Retain' });
    await w.run();
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.ok(w.iam.roles.has(ROLE));
    assert.equal(w.kube.sa('team', 'app'), undefined);
    assert.equal(w.kube.get(KEY), undefined);
  });

  it('within the memory of the last sync it reads only the tags (ownership) before deleting', async () => {
    const w = world();
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    await w.run();
    w.kube.delete(KEY);
    const { verdict, iamCalls } = await w.quiet();
    assert.deepEqual(verdict, { kind: 'done' });
    assert.deepEqual(iamCalls, [`readTags ${ROLE}`, `delete ${ROLE}`]);
    assert.equal(w.iam.roles.has(ROLE), false);
  });

  it('a policy attached behind its back since the last sync: DeleteConflict, then the role is read whole and deleted', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.iam.edit(ROLE, { managedPolicyArns: [S3_READ] });
    w.kube.delete(KEY);
    const { verdict, iamCalls } = await w.quiet();
    assert.deepEqual(verdict, { kind: 'done' });
    assert.deepEqual(iamCalls, [`readTags ${ROLE}`, `delete ${ROLE}`, `readForDelete ${ROLE}`, `delete ${ROLE}`]);
    assert.equal(w.iam.roles.has(ROLE), false);
  });

  it('a role that is not the object’s is left alone', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    const role = w.iam.roles.get(ROLE);
    assert.ok(role);
    role.tags = { team: 'a' };
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.ok(w.iam.roles.has(ROLE));
  });

  it('a failed cleanup keeps the finalizer, reports the reason and backs off', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    w.kube.delete(KEY);
    w.iam.failNext('delete', awsError('Throttling'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    assert.deepEqual(w.kube.get(KEY)?.metadata.finalizers, ['irsa.dev/finalizer']);
    assert.deepEqual(w.cond('Ready'), ['False', 'AwsThrottling']);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.equal(w.iam.roles.has(ROLE), false);
  });

  it('a role created by a pass cut short before its status write is still deleted', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.kube.failNext('patchStatus', new Error('connection reset'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    assert.ok(w.iam.roles.has(ROLE));
    assert.equal(w.kube.get(KEY)?.status, undefined);
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.equal(w.iam.roles.has(ROLE), false);
    assert.equal(w.kube.sa('team', 'app'), undefined);
  });
});

describe("Reconciler: the operator's policy and the spec", () => {
  const refused = async (w: ReturnType<typeof world>, spec: IamServiceAccountSpec, reason: string, namespace = 'team') => {
    w.kube.create('app', namespace, spec);
    assert.deepEqual(await w.run(`${namespace}/app`), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready', `${namespace}/app`), ['False', reason]);
    assert.deepEqual(w.cond('Stalled', `${namespace}/app`), ['True', reason]);
    assert.deepEqual(w.iam.calls, [], 'no AWS call');
  };

  it('InvalidSpec: refused before any AWS call', async () => {
    await refused(world(), { tags: { 'aws:x': 'y' } }, 'InvalidSpec');
  });

  it('NamespaceNotAllowed', async () => {
    await refused(world({ config: { allowedNamespaces: ['apps-*'] } }), {}, 'NamespaceNotAllowed');
  });

  it('PolicyDenied: a denied managed policy ARN', async () => {
    await refused(world(), { attachPolicyARNs: ['arn:aws:iam::aws:policy/AdministratorAccess'] }, 'PolicyDenied');
  });

  it('PolicyNotAllowed, and a namespace annotation that allows it', async () => {
    const w = world({ config: { allowedPolicyARNs: [] } });
    await refused(w, { attachPolicyARNs: [S3_READ] }, 'PolicyNotAllowed');
    const w2 = world({ config: { allowedPolicyARNs: [] } });
    w2.kube.namespaceAnnotations.set('team', { 'irsa.dev/allowed-policy-arns': 'arn:aws:iam::aws:policy/AmazonS3*' });
    w2.kube.create('app', 'team', { attachPolicyARNs: [S3_READ] });
    assert.deepEqual(await w2.run(), AFTER_DRIFT);
  });

  it('PolicyGrantsDeniedAction: a customer-managed policy whose document grants iam:*', async () => {
    const w = world();
    const arn = `arn:aws:iam::${ACCOUNT}:policy/escalate`;
    w.iam.setPolicy(arn, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] });
    w.kube.create('app', 'team', { attachPolicyARNs: [arn] });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'PolicyGrantsDeniedAction']);
    assert.deepEqual(w.iam.writes(), []);
  });

  it('PolicyGrantsDeniedAction: an AWS-managed policy is read from IAM and judged like any other', async () => {
    const w = world();
    const lambda = 'arn:aws:iam::aws:policy/AWSLambda_FullAccess';
    w.iam.setPolicy(lambda, {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadOnly', Effect: 'Allow', Action: ['lambda:*', 's3:Get*'], Resource: '*' },
        {
          Sid: 'PassRole',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: '*',
          Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
        },
      ],
    });
    w.kube.create('app', 'team', { attachPolicyARNs: [S3_READ, lambda] });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'PolicyGrantsDeniedAction']);
    const message = w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.match(message, /^arn:aws:iam::aws:policy\/AWSLambda_FullAccess \(version v1\): statement "PassRole" grants iam:PassRole, /);
    assert.deepEqual(w.iam.writes(), []);
  });

  it('a new default version of an attached policy is judged on the next full sync; the same version is read once', async () => {
    const w = world();
    const arn = `arn:aws:iam::${ACCOUNT}:policy/app`;
    w.iam.setPolicy(arn, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    w.kube.create('app', 'team', { attachPolicyARNs: [arn] });
    w.kube.create('app2', 'team', { attachPolicyARNs: [arn] });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(await w.run('team/app2'), AFTER_DRIFT);
    assert.deepEqual(
      w.iam.calls.filter((c) => c.startsWith('policy')),
      ['policyDefaultVersion ' + arn, `policyVersionDocument ${arn} v1`],
      'the second object reuses the version and the verdict',
    );
    w.iam.setPolicy(arn, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 'iam:PassRole'], Resource: '*' }],
    });
    w.advance(DRIFT_MS + 1);
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'PolicyGrantsDeniedAction']);
    assert.ok(w.iam.calls.includes(`policyVersionDocument ${arn} v2`));
  });

  it('PolicyNotFound: waits for a customer-managed policy to exist', async () => {
    const w = world();
    const arn = `arn:aws:iam::${ACCOUNT}:policy/later`;
    w.kube.create('app', 'team', { attachPolicyARNs: [arn] });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'PolicyNotFound']);
    w.iam.setPolicy(arn, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.iam.roles.get(ROLE)?.managedPolicyArns, [arn]);
  });

  it('NamespaceRoleQuotaExceeded: the oldest objects keep the roles', async () => {
    const w = world({ config: { maxRolesPerNamespace: 1 } });
    w.kube.create('first', 'team', {}, new Date(1000));
    w.kube.create('second', 'team', {}, new Date(2000));
    assert.deepEqual(await w.run('team/second'), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready', 'team/second'), ['False', 'NamespaceRoleQuotaExceeded']);
    assert.deepEqual(await w.run('team/first'), AFTER_DRIFT);
  });

  it('a terminal identity failure stalls; a transient one backs off', async () => {
    const w = world({ identity: () => Promise.reject(new TerminalError('ClusterNotFound', 'EKS has no cluster prod')) });
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'ClusterNotFound']);
    const w2 = world({ identity: () => Promise.reject(awsError('Throttling')) });
    w2.kube.create('app', 'team', {});
    assert.deepEqual(await w2.run(), { kind: 'retry' });
    assert.deepEqual(w2.cond('Reconciling'), ['True', 'AwsThrottling']);
  });
});

describe('Reconciler: Kubernetes answers', () => {
  it('a conflict on the finalizer patch retries with a fresh read', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.kube.failNext('patchFinalizers', new KubeApiError(409, 'Conflict', 'the object has been modified'));
    assert.deepEqual(await w.run(), { kind: 'retry' });
    assert.deepEqual(w.iam.writes(), []);
  });

  it('an object deleted during the pass (404 on the status write) ends the pass quietly', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    w.kube.failNext('patchStatus', new KubeApiError(404, 'NotFound', 'not found'));
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.ok(!w.kube.events.some((e) => e.reason === 'Synced'), 'no Ready Event for a status never written');
  });

  it('the Ready Event is sent on transitions only', async () => {
    const w = world();
    w.iam.providers.clear();
    w.kube.create('app', 'team', {});
    await w.run();
    await w.run();
    w.iam.setProvider(IDENTITY.oidcProviderArn, ['sts.amazonaws.com']);
    await w.run();
    await w.run();
    assert.deepEqual(
      w.kube.events.filter((e) => e.reason === 'OIDCProviderNotFound' || e.reason === 'Synced').map((e) => `${e.type} ${e.reason}`),
      ['Warning OIDCProviderNotFound', 'Normal Synced'],
    );
  });
});

describe('Reconciler: manageOidcProvider', () => {
  const TP1 = '1'.repeat(40);
  const TP2 = '2'.repeat(40);
  const OWNED = { 'irsa.dev/managed-by': 'irsa-operator', 'irsa.dev/cluster': 'prod' };

  it("creates the missing provider with the object's audience, tagged as the operator's, then the role: Ready", async () => {
    let tp = TP1;
    const w = world({ thumbprint: () => tp });
    w.iam.providers.clear();
    w.kube.create('app', 'team', { audience: 'vault' });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.deepEqual(w.iam.providers.get(IDENTITY.oidcProviderArn), { clientIds: ['vault'], thumbprints: [TP1], tags: OWNED });
    assert.deepEqual(w.iam.writes().slice(0, 2), ['applyProvider CreateOpenIDConnectProvider', 'CreateRole prod.team.app']);

    // Another audience in use is added; none is removed.
    w.kube.create('app2', 'team', {});
    assert.deepEqual(await w.run('team/app2'), AFTER_DRIFT);
    assert.deepEqual(w.iam.providers.get(IDENTITY.oidcProviderArn)?.clientIds, ['vault', 'sts.amazonaws.com']);

    // The chain changed: the next read (a drift period later) puts the new thumbprint.
    tp = TP2;
    await w.run('team/app2');
    assert.deepEqual(w.iam.providers.get(IDENTITY.oidcProviderArn)?.thumbprints, [TP1], 'read once per drift period');
    w.advance(DRIFT_MS);
    await w.run('team/app2');
    assert.deepEqual(w.iam.providers.get(IDENTITY.oidcProviderArn)?.thumbprints, [TP2]);
    assert.equal(w.iam.writes().filter((c) => c === 'applyProvider UpdateOpenIDConnectProviderThumbprint').length, 1);
  });

  it('leaves a provider someone else made as it is: an audience it lacks waits (AudienceNotAllowedByProvider)', async () => {
    const w = world({ thumbprint: () => TP1 });
    w.kube.create('app', 'team', { audience: 'vault' });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'AudienceNotAllowedByProvider']);
    assert.deepEqual(w.iam.writes(), []);
  });

  it('an issuer it cannot read waits (OIDCIssuerUnreachable) and writes nothing', async () => {
    const w = world({
      thumbprint: () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    w.iam.providers.clear();
    w.kube.create('app', 'team', {});
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'OIDCIssuerUnreachable']);
    assert.deepEqual(w.iam.writes(), []);
  });
});

describe('Reconciler: roles in other accounts', () => {
  const TARGET = '210987654321';
  const TARGET_PROVIDER = `arn:aws:iam::${TARGET}:oidc-provider/${ISSUER}`;
  const TARGET_ROLE_ARN = `arn:aws:iam::${TARGET}:role/${ROLE}`;
  const accounts = { [TARGET]: { roleArn: `arn:aws:iam::${TARGET}:role/irsa-operator-target`, allowedNamespaces: ['team'] } };
  function crossWorld(sweep = false) {
    const other = new FakeIam(TARGET);
    other.setProvider(TARGET_PROVIDER, ['sts.amazonaws.com']);
    return { ...world({ sweep, config: { accounts }, accounts: { [TARGET]: other } }), other };
  }

  it("creates the role in the target account, trusting that account's provider; nothing in the own account", async () => {
    const w = crossWorld();
    w.kube.create('app', 'team', { account: TARGET, attachPolicyARNs: [S3_READ] });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    assert.deepEqual(w.iam.writes(), []);
    const role = w.other.roles.get(ROLE);
    assert.equal(role?.arn, TARGET_ROLE_ARN);
    assert.match(decodeURIComponent(role?.trustPolicy ?? ''), new RegExp(`"Federated":"${TARGET_PROVIDER}"`));
    assert.deepEqual(role?.tags, ownerTags('prod', 'team', 'app'));
    assert.equal(w.kube.get(KEY)?.status?.oidcProviderARN, TARGET_PROVIDER);
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], TARGET_ROLE_ARN);
  });

  it('refuses an account the configuration lacks, and one not open to the namespace, with no IAM call in any account', async () => {
    const w = crossWorld();
    w.kube.create('app', 'team', { account: '999999999999' });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'AccountNotAllowed']);
    w.kube.create('app', 'payments', { account: TARGET });
    assert.deepEqual(await w.run('payments/app'), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready', 'payments/app'), ['False', 'AccountNotAllowedInNamespace']);
    assert.deepEqual([...w.iam.calls, ...w.other.calls], []);
  });

  it('reads an attachRoleARN role in its own account (the default account of the object)', async () => {
    const w = crossWorld();
    const arn = `arn:aws:iam::${TARGET}:role/legacy`;
    const trust = buildTrustPolicy({
      oidcProviderArn: TARGET_PROVIDER,
      issuerHostPath: ISSUER,
      namespace: 'team',
      serviceAccountName: 'app',
      audience: 'sts.amazonaws.com',
    });
    w.other.roles.set('legacy', { ...roleShell('legacy', arn), trustPolicy: encode(trust) });
    w.kube.create('app', 'team', { attachRoleARN: arn });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('TrustVerified'), ['True', 'TrustAdmitsServiceAccount']);
    assert.deepEqual(w.other.calls, [`oidcProvider ${TARGET_PROVIDER}`, 'readTrust legacy']);
    assert.deepEqual(w.iam.calls, []);
  });

  it("credentials refused: the object waits (AccountCredentialsRefused); the own account's objects go on", async () => {
    const w = crossWorld();
    w.other.failNext('oidcProvider', new WaitError('AccountCredentialsRefused', 'STS refused AssumeRole'));
    w.kube.create('app', 'team', { account: TARGET });
    w.kube.create('mine', 'team', {});
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'AccountCredentialsRefused']);
    assert.deepEqual(await w.run('team/mine'), AFTER_DRIFT);
    assert.deepEqual(await w.run(), AFTER_DRIFT, 'the next pass gets in');
    assert.equal(w.other.roles.get(ROLE)?.arn, TARGET_ROLE_ARN);
  });

  it('deleting an object refused for its account touches no account: nothing to release there', async () => {
    const w = crossWorld();
    w.kube.create('app', 'payments', { account: TARGET });
    await w.run('payments/app');
    w.kube.delete('payments/app');
    assert.deepEqual(await w.run('payments/app'), { kind: 'done' });
    assert.equal(w.kube.get('payments/app'), undefined, 'the finalizer is gone');
    assert.deepEqual([...w.iam.calls, ...w.other.calls], []);
  });

  it("another cluster the trust admits needs its provider in the role's account, read there (never in the own account)", async () => {
    const OTHER = 'oidc.eks.us-west-2.amazonaws.com/id/B';
    const other = new FakeIam(TARGET);
    other.setProvider(TARGET_PROVIDER, ['sts.amazonaws.com']);
    const w = { ...world({ config: { accounts, allowedIssuers: [`https://${OTHER}`] }, accounts: { [TARGET]: other } }), other };
    w.iam.setProvider(`arn:aws:iam::${ACCOUNT}:oidc-provider/${OTHER}`, ['sts.amazonaws.com']);
    w.kube.create('app', 'team', { account: TARGET, additionalClusters: [{ issuer: `https://${OTHER}` }] });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'OIDCProviderNotFound']);
    assert.match(
      w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      new RegExp(`arn:aws:iam::${TARGET}:oidc-provider/${OTHER}`),
    );
    w.other.setProvider(`arn:aws:iam::${TARGET}:oidc-provider/${OTHER}`, ['sts.amazonaws.com']);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.match(
      decodeURIComponent(w.other.roles.get(ROLE)?.trustPolicy ?? ''),
      new RegExp(`"Federated":"arn:aws:iam::${TARGET}:oidc-provider/${OTHER}"`),
    );
    assert.deepEqual(w.iam.calls, []);
  });

  it('deletes the role in its account with the object', async () => {
    const w = crossWorld();
    w.kube.create('app', 'team', { account: TARGET });
    await w.run();
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.equal(w.other.roles.has(ROLE), false);
  });

  it('Pod Identity with a role in another account: PodIdentityNeedsOwnAccount before any IAM or EKS call, and not swept', async () => {
    for (const identity of ['PodIdentity', 'Both'] as const) {
      const w = crossWorld(true);
      w.kube.create('app', 'team', { account: TARGET, identity });
      assert.deepEqual(await w.run(), { kind: 'drop' }, identity);
      assert.deepEqual(w.cond('Ready'), ['False', 'PodIdentityNeedsOwnAccount']);
      assert.deepEqual(w.cond('Stalled'), ['True', 'PodIdentityNeedsOwnAccount']);
      assert.match(
        w.kube.get(KEY)?.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
        /use the own account .* or identity IRSA for a role in another account/,
      );
      assert.deepEqual(await w.sweep(), { drifted: [], inSync: 0 });
      assert.deepEqual([...w.iam.calls, ...w.other.calls, ...w.eks.calls], []);
      // Deleting it touches no account and no association.
      w.kube.delete(KEY);
      assert.deepEqual(await w.run(), { kind: 'done' });
      assert.equal(w.kube.get(KEY), undefined, 'the finalizer is gone');
      assert.deepEqual([...w.iam.calls, ...w.other.calls, ...w.eks.calls], []);
    }
  });

  it('Pod Identity in the own account next to IRSA in another: roles swept in each account, associations once, in the own EKS', async () => {
    const w = crossWorld(true);
    w.kube.create('app', 'team', { account: TARGET });
    w.kube.create('pod', 'team', { account: ACCOUNT, identity: 'PodIdentity' });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(await w.run('team/pod'), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready', 'team/pod'), ['True', 'Synced']);
    const [a, ...more] = [...w.eks.associations.values()];
    assert.equal(more.length, 0);
    assert.equal(a?.roleArn, `arn:aws:iam::${ACCOUNT}:role/prod.team.pod`);
    assert.ok(w.iam.roles.has('prod.team.pod') && !w.other.roles.has('prod.team.pod'));
    assert.ok(w.other.roles.has(ROLE) && !w.iam.roles.has(ROLE));
    const describes = () => w.eks.calls.filter((c) => c.startsWith('describe ')).length;
    assert.deepEqual(await w.sweep(), { drifted: [], inSync: 2 });
    assert.equal(describes(), 1, 'one association, described once');
    w.eks.associations.delete(a?.id ?? '');
    assert.deepEqual(await w.sweep(), { drifted: ['team/pod'], inSync: 2 });
    assert.equal(describes(), 2);
    assert.deepEqual(await w.run('team/pod'), AFTER_DRIFT);
    assert.equal([...w.eks.associations.values()][0]?.roleArn, `arn:aws:iam::${ACCOUNT}:role/prod.team.pod`);
  });

  it("sweeps each account: one whose sweep fails leaves the other's findings applied, and the sweep reports the failure", async () => {
    const w = crossWorld(true);
    w.kube.create('app', 'team', { account: TARGET });
    w.kube.create('mine', 'team', {});
    await w.run();
    await w.run('team/mine');
    w.iam.edit('prod.team.mine', { description: 'edited by hand' });
    assert.deepEqual(await w.sweep(), { drifted: ['team/mine'], inSync: 1 });
    w.other.failNext('sweep', new Error('AccessDenied by the target account'));
    w.other.edit(ROLE, { description: 'edited by hand' });
    await assert.rejects(w.sweep(), /AccessDenied by the target account/);
  });
});

/** A role IAM holds that no test cares about beyond its name and ARN. */
function roleShell(name: string, arn: string) {
  return {
    name,
    path: '/',
    arn,
    description: '',
    maxSessionDuration: 3600,
    permissionsBoundary: undefined,
    trustPolicy: encode({ Version: '2012-10-17', Statement: [] }),
    tags: {},
    managedPolicyArns: [],
    inlinePolicies: {},
  };
}

describe('Reconciler: EKS Pod Identity (spec.identity)', () => {
  const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod`;
  const pod = { clusterArn: CLUSTER_ARN, account: ACCOUNT, namespace: 'team', serviceAccountName: 'app', sessionTags: true };
  const token = { ...IDENTITY, namespace: 'team', serviceAccountName: 'app', audience: 'sts.amazonaws.com' };

  /** Which paths give a new pod of team/app the role, as the fakes hold things now. */
  function paths(w: ReturnType<typeof world>): { irsa: boolean; pod: boolean } {
    const role = w.iam.roles.get(ROLE);
    if (!role) return { irsa: false, pod: false };
    const doc = parsePolicyDocumentOrEmpty(role.trustPolicy);
    const annotated = w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn] === ROLE_ARN;
    const associated = [...w.eks.associations.values()].some((a) => a.serviceAccount === 'app' && a.roleArn === ROLE_ARN);
    return {
      irsa: annotated && judgeTrust(doc, ROLE_ARN, token).admitted,
      pod: associated && judgePodIdentityTrust(doc, ROLE_ARN, pod).admitted,
    };
  }

  /** Judges the paths after every write the operator makes to IAM, EKS or the ServiceAccount; returns the moments without one. */
  function watchWrites(w: ReturnType<typeof world>): string[] {
    const gaps: string[] = [];
    const after = (target: object, method: string, what: string) => {
      const original = (target as Record<string, (...args: unknown[]) => Promise<unknown>>)[method];
      if (!original) throw new Error(`no method ${method}`);
      Object.assign(target, {
        [method]: async (...args: unknown[]) => {
          const out = await original.apply(target, args);
          const p = paths(w);
          if (!p.irsa && !p.pod) gaps.push(`after ${what}`);
          return out;
        },
      });
    };
    after(w.iam, 'apply', 'an IAM write');
    after(w.kube, 'applyServiceAccount', 'a ServiceAccount write');
    after(w.eks, 'create', 'CreatePodIdentityAssociation');
    after(w.eks, 'update', 'UpdatePodIdentityAssociation');
    after(w.eks, 'delete', 'DeletePodIdentityAssociation');
    return gaps;
  }

  /** Passes until the object is Ready (a migration takes two: the next narrows the trust). */
  async function settle(w: ReturnType<typeof world>): Promise<number> {
    for (let n = 1; n <= 5; n++) {
      const verdict = await w.run();
      if (verdict.kind === 'after' && verdict.delayMs === DRIFT_MS) return n;
    }
    throw new Error(`not Ready after 5 passes: ${JSON.stringify(w.kube.get(KEY)?.status?.conditions)}`);
  }

  it('PodIdentity: the pods.eks trust alone, an owned association, no role annotation, status names the association', async () => {
    const w = world();
    w.kube.create('app', 'team', { identity: 'PodIdentity' });
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(parsePolicyDocumentOrEmpty(w.iam.roles.get(ROLE)?.trustPolicy ?? ''), trustPolicyFor({ pod }));
    const [a, ...more] = [...w.eks.associations.values()];
    assert.equal(more.length, 0);
    assert.equal(a?.roleArn, ROLE_ARN);
    assert.deepEqual(a?.tags, ownerTags('prod', 'team', 'app'));
    assert.equal(w.kube.sa('team', 'app')?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn], undefined);
    assert.deepEqual(w.cond('AssociationSynced'), ['True', 'Synced']);
    assert.deepEqual(w.cond('TrustVerified'), ['True', 'TrustAdmitsServiceAccount']);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    const status = w.kube.get(KEY)?.status;
    assert.equal(status?.podIdentityAssociationID, a?.id);
    assert.equal(status?.podIdentityAssociationARN, a?.arn);
    assert.equal(status?.oidcProviderARN, undefined, 'the role does not trust the OIDC provider');
    // Quiet at rest: no EKS read either.
    const calls = w.eks.calls.length;
    assert.deepEqual(await w.quiet(), { verdict: AFTER_DRIFT, iamCalls: [], kubeWrites: [] });
    assert.equal(w.eks.calls.length, calls);
  });

  it('IRSA objects make no EKS call at all', async () => {
    const w = world();
    w.kube.create('app', 'team', {});
    await w.run();
    assert.deepEqual(w.eks.calls, []);
    assert.equal(w.cond('AssociationSynced'), undefined);
  });

  it('a cluster EKS does not know: PodIdentityNotAvailable before any IAM write; deleting the object is not held up', async () => {
    const w = world();
    w.eks.clusters.clear();
    w.kube.create('app', 'team', { identity: 'PodIdentity' });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'PodIdentityNotAvailable']);
    assert.deepEqual(w.iam.writes(), []);
    w.kube.delete(KEY);
    assert.deepEqual(await w.run(), { kind: 'done' });
    assert.equal(w.kube.get(KEY), undefined, 'the finalizer is gone');
  });

  for (const [from, to] of [
    ['IRSA', 'Both'],
    ['IRSA', 'PodIdentity'],
    ['Both', 'PodIdentity'],
    ['Both', 'IRSA'],
    ['PodIdentity', 'IRSA'],
    ['PodIdentity', 'Both'],
  ] as const) {
    it(`${from} -> ${to}: a working path after every single write, and at rest only the paths of ${to}`, async () => {
      const w = world();
      w.kube.create('app', 'team', { identity: from });
      await settle(w);
      const gaps = watchWrites(w);
      w.kube.updateSpec(KEY, { identity: to });
      await settle(w);
      assert.deepEqual(gaps, []);
      assert.deepEqual(paths(w), { irsa: to !== 'PodIdentity', pod: to !== 'IRSA' });
      const statements = asArray(parsePolicyDocumentOrEmpty(w.iam.roles.get(ROLE)?.trustPolicy ?? '').Statement);
      assert.equal(statements.length, to === 'Both' ? 2 : 1, 'the trust narrowed to the paths of the mode');
      assert.equal(w.eks.associations.size, to === 'IRSA' ? 0 : 1);
      assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
    });
  }

  it('a migration reports IdentityMigrating while the trust still admits the old path, then narrows it', async () => {
    const w = world();
    w.kube.create('app', 'team', { identity: 'PodIdentity' });
    await w.run();
    w.kube.updateSpec(KEY, { identity: 'IRSA' });
    assert.equal((await w.run()).kind, 'after');
    assert.deepEqual(w.cond('Ready'), ['False', 'IdentityMigrating']);
    assert.deepEqual(w.cond('Reconciling'), ['True', 'IdentityMigrating']);
    assert.deepEqual(await w.run(), AFTER_DRIFT);
    assert.deepEqual(w.cond('Ready'), ['True', 'Synced']);
  });

  it("another's association for the ServiceAccount: AssociationConflict before any IAM write, and it is left alone", async () => {
    const w = world();
    const theirs = w.eks.put({
      clusterName: 'prod',
      namespace: 'team',
      serviceAccount: 'app',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/theirs`,
      targetRoleArn: undefined,
      disableSessionTags: false,
      tags: {},
      ownerArn: undefined,
    });
    w.kube.create('app', 'team', { identity: 'PodIdentity' });
    assert.deepEqual(await w.run(), { kind: 'drop' });
    assert.deepEqual(w.cond('Ready'), ['False', 'AssociationConflict']);
    assert.deepEqual(w.iam.writes(), []);
    assert.deepEqual(w.eks.associations.get(theirs.id), theirs);
  });

  it('the 5,000 limit: AssociationLimitExceeded, looked at again after the wait', async () => {
    const w = world();
    w.eks.limit = 0;
    w.kube.create('app', 'team', { identity: 'PodIdentity' });
    assert.deepEqual(await w.run(), AFTER_WAIT);
    assert.deepEqual(w.cond('Ready'), ['False', 'AssociationLimitExceeded']);
    assert.equal(w.kube.sa('team', 'app'), undefined, 'no ServiceAccount without its association');
  });

  it('the drift sweep finds an association deleted or changed behind its back; the next pass repairs it', async () => {
    const w = world({ sweep: true });
    w.kube.create('app', 'team', { identity: 'PodIdentity', podIdentity: { disableSessionTags: true } });
    await w.run();
    assert.deepEqual((await w.sweep()).drifted, []);
    // Confirmed by the sweep: the periodic pass a drift period later reads neither IAM nor EKS.
    w.advance(DRIFT_MS + 1);
    const eksCalls = w.eks.calls.length;
    assert.deepEqual((await w.quiet()).iamCalls, []);
    assert.equal(w.eks.calls.length, eksCalls);
    const first = [...w.eks.associations.values()][0];
    w.eks.associations.delete(first?.id ?? '');
    assert.deepEqual((await w.sweep()).drifted, [KEY]);
    await w.run();
    const second = [...w.eks.associations.values()][0];
    assert.equal(second?.roleArn, ROLE_ARN);
    assert.equal(w.kube.get(KEY)?.status?.podIdentityAssociationID, second?.id);
    if (second) second.disableSessionTags = false;
    assert.deepEqual((await w.sweep()).drifted, [KEY]);
    await w.run();
    assert.equal([...w.eks.associations.values()][0]?.disableSessionTags, true);
    assert.ok(w.eks.calls.some((c) => c.startsWith('update ')));
  });

  it('deletionPolicy Delete deletes the association with the role; Retain keeps both', async () => {
    for (const deletionPolicy of ['Delete', 'Retain'] as const) {
      const w = world();
      w.kube.create('app', 'team', { identity: 'Both', deletionPolicy });
      await w.run();
      w.kube.delete(KEY);
      await w.run();
      assert.equal(w.kube.get(KEY), undefined);
      assert.equal(w.eks.associations.size, deletionPolicy === 'Delete' ? 0 : 1, deletionPolicy);
      assert.equal(w.iam.roles.has(ROLE), deletionPolicy === 'Retain', deletionPolicy);
      const told = w.kube.events.filter((e) => e.reason === 'AssociationDeleted' || e.reason === 'RoleDeleted').map((e) => e.reason);
      assert.deepEqual(told, deletionPolicy === 'Delete' ? ['AssociationDeleted', 'RoleDeleted'] : [], deletionPolicy);
    }
  });
});
