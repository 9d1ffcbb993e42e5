// The irsa CLI against the real servers. render: for every example, what `irsa render` prints is
// what the operator wrote to IAM and to the ServiceAccount (as JSON, keys sorted). validate: every
// example passes; every object of the bad-input corpus the API server rejects, validate rejects
// offline, naming the field the API server names (asked with kubectl apply --dry-run=server); 100
// files are checked in about a second. doctor: with the real pod identity webhook, it names the
// broken link of a healthy pod (none), a pod started before the annotation, an audience the OIDC
// provider does not list, a hand-annotated foreign ServiceAccount and a role deleted behind the
// operator's back. import: eksctl's documented iamserviceaccounts configs, a kiam fixture (read
// from files and from the cluster) and annotated ServiceAccounts (attachRoleARN and adoption)
// become objects that, applied, go Ready; 1,000 annotated ServiceAccounts are read in pages.
// Ends with one line:
//   cli: validate_agree=N/M render_equal=N/M doctor_cases=N/N import_ready=N/M
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  AttachRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { parse } from 'yaml';
import type { IamServiceAccount } from '../../src/api/types.ts';
import type { DoctorReport } from '../../src/cli/doctor.ts';
import type { ImportResult } from '../../src/cli/import-result.ts';
import { issuerHostPath } from '../../src/policy/arn.ts';
import { buildTrustPolicy } from '../../src/policy/trust.ts';
import type { Rendered } from '../../src/cli/render.ts';
import type { Operator } from '../../src/operator.ts';
import { sortKeys } from '../../src/cli/output.ts';
import { BAD_NS, caseDocument, cases } from '../badinput/cases.ts';
import { iamOfExample, SETUP } from './example-setup.ts';
import {
  applyIamsa,
  decodeDoc,
  env,
  getJson,
  iam,
  kubectl,
  kubectlResult,
  newNamespace,
  REPO,
  resetAws,
  startOperator,
  TEST_ISSUER,
  waitForCondition,
} from './helpers.ts';
import { CLI, identityFlags, runCli } from './cli-run.ts';
import { createPod, waitForInjection } from './pods.ts';

const tally = {
  validate: { agree: 0, of: 0 },
  render: { equal: 0, of: 0 },
  doctor: { named: 0, of: 0 },
  import: { ready: 0, of: 0 },
};

after(() => {
  const t = tally;
  console.log(
    `cli: validate_agree=${t.validate.agree}/${t.validate.of} render_equal=${t.render.equal}/${t.render.of} doctor_cases=${t.doctor.named}/${t.doctor.of} import_ready=${t.import.ready}/${t.import.of}`,
  );
});

const canonical = (v: unknown) => JSON.stringify(sortKeys(v));

/** The role as IAM holds it, in render's shape (documents parsed). */
async function roleInIam(region: string, name: string, account: string | undefined): Promise<Record<string, unknown>> {
  const client = await iamOfExample(account, region);
  const role = (await client.send(new GetRoleCommand({ RoleName: name }))).Role;
  const attached = (await client.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
  const inlineNames = (await client.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
  const inline: Record<string, unknown> = {};
  for (const p of inlineNames) {
    inline[p] = decodeDoc((await client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: p }))).PolicyDocument);
  }
  const tags = (await client.send(new ListRoleTagsCommand({ RoleName: name }))).Tags ?? [];
  const out: Record<string, unknown> = {
    arn: role?.Arn,
    name: role?.RoleName,
    path: role?.Path,
    description: role?.Description,
    maxSessionDuration: role?.MaxSessionDuration,
    trustPolicy: decodeDoc(role?.AssumeRolePolicyDocument),
    managedPolicyArns: attached.map((p) => p.PolicyArn).sort(),
    inlinePolicies: inline,
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
  };
  if (role?.PermissionsBoundary?.PermissionsBoundaryArn) out.permissionsBoundary = role.PermissionsBoundary.PermissionsBoundaryArn;
  return out;
}

describe('irsa render', () => {
  const files = readdirSync(join(REPO, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  for (const file of files) {
    it(`${file}: render equals what the operator wrote to IAM and the ServiceAccount`, async () => {
      tally.render.of++;
      const setup = SETUP[file] ?? {};
      const region = setup.region ?? 'us-east-1';
      const path = join(REPO, 'examples', file);
      const example = parse(readFileSync(path, 'utf8')) as IamServiceAccount;
      await resetAws(TEST_ISSUER, region);
      const ns = await newNamespace('render');
      await setup.before?.(ns);
      const op = await startOperator({ region, watchNamespaces: [ns], ...setup.config?.(ns) });
      try {
        await kubectl(['apply', '-n', ns, '-f', path]);
        const obj = await waitForCondition(ns, example.metadata.name, 'Ready', 'True');
        const run = await runCli(['render', '-f', path, '-n', ns, ...identityFlags(region), '-o', 'json']);
        assert.equal(run.code, 0, run.stderr);
        const [rendered] = JSON.parse(run.stdout) as Rendered[];
        assert.ok(rendered);
        assert.equal(rendered.roleArn, obj.status?.roleARN);
        if (rendered.role)
          assert.equal(canonical(rendered.role), canonical(await roleInIam(region, rendered.role.name, example.spec.account)));
        if (rendered.serviceAccount) {
          const name = rendered.serviceAccount.metadata?.name ?? '';
          const sa = await getJson<{ metadata: { labels?: object; annotations?: object } }>(['-n', ns, 'get', 'serviceaccount', name]);
          const meta = rendered.serviceAccount.metadata;
          assert.equal(
            canonical({ labels: meta?.labels, annotations: meta?.annotations }),
            canonical({ labels: sa.metadata.labels, annotations: sa.metadata.annotations }),
          );
        } else {
          assert.equal(example.spec.roleOnly, true, 'only roleOnly renders no ServiceAccount');
        }
        tally.render.equal++;
      } finally {
        await op.stop();
      }
    });
  }
});

/** The fields an API server message names (`spec.x: Invalid value ...`, `unknown field "spec.x"`). */
function apiserverFields(stderr: string): string[] {
  const named = [
    ...stderr.matchAll(
      /(?:^|\* |is invalid: )([A-Za-z][\w.[\]-]*): (?:Invalid value|Too many|Too long|Required value|Duplicate value|Unsupported value)/gm,
    ),
  ].map((m) => m[1] ?? '');
  const unknown = [...stderr.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1] ?? '');
  return [...named, ...unknown];
}

/** validate's findings per file: `file:line: field: message`. */
function findingsByFile(stdout: string): Map<string, { field: string; text: string }[]> {
  const out = new Map<string, { field: string; text: string }[]>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const m = /^(.+?):(\d+): (?:warning: )?(\S+): (.*)$/.exec(line);
    if (!m) continue;
    const [, file = '', , field = ''] = m;
    out.set(file, [...(out.get(file) ?? []), { field, text: line }]);
  }
  return out;
}

describe('irsa validate', () => {
  it('passes every file in examples/ (under a configuration that allows what they ask for)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-validate-config-'));
    const config = join(dir, 'config.yaml');
    const allow = Object.values(SETUP).map((setup) => setup.config?.('*') ?? {});
    writeFileSync(
      config,
      // No region: the examples are for clusters of several partitions (china-region.yaml).
      JSON.stringify({
        allowedIssuers: allow.flatMap((c) => c.allowedIssuers ?? []),
        subjectPatternNamespaces: allow.flatMap((c) => c.subjectPatternNamespaces ?? []),
      }),
    );
    const n = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')).length;
    const run = await runCli(['validate', '-f', 'examples/', '--config', config]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`${n} files, ${n} IamServiceAccounts: 0 errors, 0 warnings`));
  });

  it('rejects every object the API server rejects, naming the same field', async () => {
    await kubectl(['create', 'namespace', BAD_NS]);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-validate-'));
    const applyCases = [...cases.entries()].filter(([, tc]) => 'apply' in tc.want);
    const server = new Map<string, string>();
    for (const [i, tc] of applyCases) {
      const file = join(dir, `case-${String(i).padStart(2, '0')}.yaml`);
      writeFileSync(file, caseDocument(tc, i));
      const r = await kubectlResult(['apply', '--dry-run=server', '-n', BAD_NS, '-f', file]);
      assert.notEqual(r.code, 0, `the API server accepted ${tc.name}`);
      server.set(file, r.stderr);
    }
    const run = await runCli(['validate', '-f', dir]);
    assert.equal(run.code, 1, run.stderr);
    const found = findingsByFile(run.stdout);
    const disagree: string[] = [];
    for (const [i, tc] of applyCases) {
      tally.validate.of++;
      const file = join(dir, `case-${String(i).padStart(2, '0')}.yaml`);
      const mine = found.get(file) ?? [];
      const fields = apiserverFields(server.get(file) ?? '');
      const want = fields.length > 0 ? fields : ['(root)'];
      const regex = 'apply' in tc.want ? tc.want.apply : /./;
      const agree = mine.length > 0 && want.every((f) => mine.some((x) => x.field === f)) && mine.some((x) => regex.test(x.text));
      if (agree) tally.validate.agree++;
      else
        disagree.push(
          `${tc.name}: API server ${JSON.stringify(want)} (${server.get(file)?.trim() ?? ''}); validate ${JSON.stringify(mine)}`,
        );
    }
    assert.deepEqual(disagree, []);
  });

  it('checks 100 files in about a second (a pre-commit hook)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-validate-100-'));
    // The shipped configuration trusts no other cluster and allows no subject pattern.
    const examples = readdirSync(join(REPO, 'examples')).filter(
      (f) => f.endsWith('.yaml') && f !== 'china-region.yaml' && SETUP[f]?.config === undefined,
    );
    for (let n = 0; n < 100; n++) {
      const sub = join(dir, `team-${n % 10}`);
      mkdirSync(sub, { recursive: true });
      const example = examples[n % examples.length] ?? '';
      const text = readFileSync(join(REPO, 'examples', example), 'utf8').replace(/^( {2}name: )(.*)$/m, `$1$2-${n}`);
      writeFileSync(join(sub, `${n}-${example}`), text);
    }
    const run = await runCli(['validate', '-f', dir, '--config', 'config/manager/config.yaml']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stderr, /100 files, 100 IamServiceAccounts: 0 errors/);
    const inside = /\((\d+) ms\)/.exec(run.stderr)?.[1];
    console.log(`validate: 100 files in ${Math.round(run.ms)} ms (process start to exit; ${inside ?? '?'} ms reading and checking)`);
    assert.ok(run.ms < 5000, `${run.ms} ms`);
  });
});

describe('irsa doctor', () => {
  let ns: string;
  let op: Operator;
  let readerRole = '';
  before(async () => {
    await resetAws();
    ns = await newNamespace('doctor');
    op = await startOperator({ watchNamespaces: [ns] });
    await applyIamsa(ns, 'reader', { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] });
    readerRole = (await waitForCondition(ns, 'reader', 'Ready', 'True')).status?.roleARN ?? '';
  });
  after(async () => {
    await op.stop();
  });

  async function doctor(target: string, want: string | null): Promise<DoctorReport> {
    tally.doctor.of++;
    const run = await runCli(['doctor', target, '-n', ns, '--aws-endpoint', env().motoUrl, '-o', 'json']);
    const report = JSON.parse(run.stdout) as DoctorReport;
    const text = await runCli(['doctor', target, '-n', ns, '--aws-endpoint', env().motoUrl]);
    console.log(text.stdout.trimEnd());
    assert.equal(report.broken, want, text.stdout + run.stderr);
    assert.equal(run.code, want === null ? 0 : 1, run.stderr);
    assert.equal(text.code, run.code);
    tally.doctor.named++;
    return report;
  }

  it('a healthy pod: every link holds', async () => {
    await waitForInjection(ns, 'reader', readerRole);
    await createPod(ns, 'reader-1', 'reader');
    const report = await doctor('pod/reader-1', null);
    assert.deepEqual(
      report.checks.map((c) => `${c.link}=${c.status}`),
      ['object', 'serviceaccount', 'webhook', 'pod', 'oidc-provider', 'role', 'trust', 'policies'].map((l) => `${l}=ok`),
    );
    assert.match(report.checks.find((c) => c.link === 'trust')?.detail ?? '', /admits .*claims of a token the API server issued/);
  });

  it('a pod started before the annotation: the pod link, with how to restart it', async () => {
    await kubectl(['create', 'serviceaccount', '-n', ns, 'legacy']);
    await createPod(ns, 'legacy-1', 'legacy');
    await new Promise((r) => setTimeout(r, 1100)); // a second later: timestamps have one-second resolution
    await applyIamsa(ns, 'legacy', { serviceAccount: { overrideExisting: true } });
    await waitForCondition(ns, 'legacy', 'Ready', 'True');
    const report = await doctor('pod/legacy-1', 'pod');
    const pod = report.checks.find((c) => c.link === 'pod');
    assert.match(pod?.detail ?? '', /no AWS_ROLE_ARN; started .* before the role annotation/);
    assert.match(pod?.fix ?? '', /kubectl delete pod -n \S+ legacy-1/);
  });

  it('an audience the OIDC provider does not list: the OIDC provider link', async () => {
    await applyIamsa(ns, 'vault', { audience: 'test' });
    await waitForCondition(ns, 'vault', 'Ready', 'False', 'AudienceNotAllowedByProvider');
    const report = await doctor('iamsa/vault', 'oidc-provider');
    assert.match(report.checks[0]?.detail ?? '', /AudienceNotAllowedByProvider/);
  });

  it('a hand-annotated foreign ServiceAccount: the trust link (the role does not trust it)', async () => {
    await kubectl(['create', 'serviceaccount', '-n', ns, 'intruder']);
    await kubectl(['annotate', 'serviceaccount', '-n', ns, 'intruder', `eks.amazonaws.com/role-arn=${readerRole}`]);
    const report = await doctor('sa/intruder', 'trust');
    assert.equal(report.checks[0]?.status, 'skipped', 'no IamServiceAccount owns it');
    assert.match(
      report.checks.find((c) => c.link === 'trust')?.detail ?? '',
      /no statement of the trust policy .* allows a token for system:serviceaccount:\S+:intruder/,
    );
  });

  it("a role deleted behind the operator's back: the role link", async () => {
    await applyIamsa(ns, 'gone', { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'] });
    const obj = await waitForCondition(ns, 'gone', 'Ready', 'True');
    const RoleName = obj.status?.roleName ?? '';
    await iam().send(new DetachRolePolicyCommand({ RoleName, PolicyArn: 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess' }));
    await iam().send(new DeleteRoleCommand({ RoleName }));
    const report = await doctor('iamsa/gone', 'role');
    assert.match(report.checks.find((c) => c.link === 'role')?.fix ?? '', /next drift check/);
  });
});

describe('irsa import', () => {
  const account = '123456789012';
  const issuer = issuerHostPath(TEST_ISSUER);
  const kiamTrust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/kiam-server` }, Action: 'sts:AssumeRole' }],
  };

  /** Applies imported objects with an operator watching their namespaces; counts those that go Ready. */
  async function applyAndCount(result: ImportResult, config: Parameters<typeof startOperator>[0] = {}): Promise<void> {
    const namespaces = [...new Set(result.objects.map((o) => o.object.metadata.namespace))];
    const op = await startOperator({ watchNamespaces: namespaces, ...config });
    try {
      for (const o of result.objects) await kubectl(['apply', '-f', '-'], JSON.stringify(o.object));
      for (const o of result.objects) {
        tally.import.of++;
        const { namespace, name } = o.object.metadata;
        await waitForCondition(namespace, name, 'Ready', 'True');
        tally.import.ready++;
      }
    } finally {
      await op.stop();
    }
  }

  it("eksctl: eksctl's documented iamserviceaccounts configs become objects that go Ready", async () => {
    await resetAws();
    const run = await runCli(['import', 'eksctl', '-f', 'test/fixtures/eksctl/', '-o', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as ImportResult;
    assert.equal(result.objects.length, 8);
    assert.match(run.stderr, /permissionsBoundary: "arn:aws:iam::11111:policy\/entity\/boundary" is not a managed policy ARN/);
    assert.match(run.stderr, /metadata.labels: roleOnly: the operator never touches the ServiceAccount: not mapped/);
    assert.match(run.stderr, /podIdentityAssociations\[1\] \(dev\/app-cache-access\): EKS Pod Identity, not IRSA/);
    // The documented configs reuse namespace/name pairs: each file gets namespaces of its own here.
    for (const [i, o] of result.objects.entries()) o.object.metadata.namespace = `eksctl-${i}-${o.object.metadata.namespace}`;
    for (const o of result.objects) await kubectl(['create', 'namespace', o.object.metadata.namespace]);
    // eksctl made the ServiceAccount of the first: the object takes it over.
    const first = result.objects[0]?.object.metadata;
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: first?.name,
          namespace: first?.namespace,
          labels: { 'app.kubernetes.io/managed-by': 'eksctl' },
          annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/eksctl-cluster-13-addon-iamserviceaccount-Role1-ABC` },
        },
      }),
    );
    // AmazonElastiCacheFullAccess (cache-access) grants iam:CreateServiceLinkedRole, which the
    // operator's default policy denies; a platform team adopting eksctl's example exempts it.
    await applyAndCount(result, { exemptActions: ['iam:CreateServiceLinkedRole'] });
  });

  it('kiam: workloads with role annotations, from files and from the cluster, become objects that go Ready once their roles trust them', async () => {
    await resetAws();
    for (const name of ['payments-api', 'payments-ledger', 'reports-writer']) {
      await iam().send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(kiamTrust) }));
    }
    const flags = ['--account', account, '--issuer', TEST_ISSUER, '-o', 'json'];
    const fromFiles = await runCli(['import', 'kiam', '-f', 'test/fixtures/kiam/', ...flags]);
    assert.equal(fromFiles.code, 0, fromFiles.stderr);
    await kubectl(['apply', '-f', join(REPO, 'test/fixtures/kiam/kiam.yaml')]);
    const live = await runCli(['import', 'kiam', ...flags]);
    assert.equal(live.code, 0, live.stderr);
    const result = JSON.parse(live.stdout) as ImportResult;
    assert.deepEqual(result, JSON.parse(fromFiles.stdout), 'the cluster and the files give the same plan');
    assert.equal(result.objects.length, 4);
    assert.equal(result.workloads?.length, 4);
    assert.match(live.stderr, /kiam-payments\/admin-tool: namespace kiam-payments permits "payments-\.\*", not cluster-admin/);
    assert.match(live.stderr, /kiam-legacy\/old: namespace kiam-legacy has no iam.amazonaws.com\/permitted annotation/);
    // What the import says to do: each role's trust gains the statement, the workloads switch.
    for (const t of result.trust ?? []) {
      const RoleName = t.roleArn.slice(t.roleArn.lastIndexOf('/') + 1);
      const doc = { ...kiamTrust, Statement: [...kiamTrust.Statement, t.statement] };
      await iam().send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(doc) }));
    }
    await applyAndCount(result);
    for (const w of result.workloads ?? []) {
      const [, patch = ''] = /-p '(.*)'$/.exec(w.command) ?? [];
      await kubectl(['patch', '-n', w.namespace, w.kind.toLowerCase(), w.name, '--type', 'merge', '-p', patch]);
    }
    const api = await getJson<{ spec: { template: { spec: { serviceAccountName?: string } } } }>([
      '-n',
      'kiam-payments',
      'get',
      'deployment',
      'api',
    ]);
    assert.equal(api.spec.template.spec.serviceAccountName, 'payments-api');
  });

  it('cluster: annotated ServiceAccounts become objects, attachRoleARN or adoption, that go Ready', async () => {
    await resetAws();
    const ns = await newNamespace('import');
    const trustFor = (...names: string[]) => {
      const doc = buildTrustPolicy({
        oidcProviderArn: `arn:aws:iam::${account}:oidc-provider/${issuer}`,
        issuerHostPath: issuer,
        namespace: ns,
        serviceAccountName: names[0] ?? '',
        audience: 'sts.amazonaws.com',
      });
      const [statement] = doc.Statement as { Condition: { StringEquals: Record<string, unknown> } }[];
      if (statement && names.length > 1)
        statement.Condition.StringEquals[`${issuer}:sub`] = names.map((n) => `system:serviceaccount:${ns}:${n}`);
      return JSON.stringify(doc);
    };
    // Terraform made tf-app's role exactly as the operator would: adoptable. shared-role trusts two.
    await iam().send(
      new CreateRoleCommand({
        RoleName: 'tf-app',
        AssumeRolePolicyDocument: trustFor('tf-app'),
        Tags: [{ Key: 'team', Value: 'payments' }],
      }),
    );
    await iam().send(new AttachRolePolicyCommand({ RoleName: 'tf-app', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    await iam().send(
      new PutRolePolicyCommand({
        RoleName: 'tf-app',
        PolicyName: 'queue',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }],
        }),
      }),
    );
    await iam().send(new CreateRoleCommand({ RoleName: 'shared-role', AssumeRolePolicyDocument: trustFor('shared', 'other') }));
    const sa = (name: string, annotations: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: ns, annotations },
    });
    const items = [
      sa('tf-app', { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/tf-app` }),
      sa('shared', {
        'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/shared-role`,
        'eks.amazonaws.com/token-expiration': '3600',
      }),
      sa('owned', { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/x`, 'irsa.dev/owner': 'x' }),
      sa('plain', {}),
    ];
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const run = await runCli([
      'import',
      'cluster',
      '-n',
      ns,
      '--adopt',
      '--issuer',
      TEST_ISSUER,
      '--aws-endpoint',
      env().motoUrl,
      '-o',
      'json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as ImportResult;
    assert.deepEqual(
      result.objects.map((o) => `${o.object.metadata.name}=${o.mode ?? ''}`),
      ['shared=attachRoleARN', 'tf-app=adopt'],
    );
    assert.match(run.stderr, /owned: IamServiceAccount x owns it already: skipped/);
    assert.match(run.stderr, /4 ServiceAccounts read, 3 with a role annotation: 2 IamServiceAccounts \(1 attachRoleARN, 1 adopt\)/);
    await applyAndCount(result, { adoptExistingRoles: true });
    const adopted = await roleInIam('us-east-1', 'tf-app', undefined);
    assert.deepEqual(adopted.managedPolicyArns, ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    assert.deepEqual(Object.keys(adopted.inlinePolicies as object), ['irsa-attach-policy']);
    assert.equal((adopted.tags as Record<string, string>)['irsa.dev/name'], 'tf-app');
    assert.equal((adopted.tags as Record<string, string>).team, 'payments');
  });

  it('cluster: 1,000 annotated ServiceAccounts are read in pages', async () => {
    const ns = await newNamespace('bulk');
    const items = Array.from({ length: 1000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: `app-${i}`, namespace: ns, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/app-${i}` } },
    }));
    await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const run = await runCli(['import', 'cluster', '-n', ns, '-o', 'json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as ImportResult).objects.length, 1000);
    assert.match(
      run.stderr,
      /1000 ServiceAccounts read, 1000 with a role annotation: 1000 IamServiceAccounts \(1000 attachRoleARN, 0 adopt\)/,
    );
    console.log(`import cluster: 1000 ServiceAccounts in ${Math.round(run.ms)} ms`);
  });
});

describe('irsa as a kubectl plugin', () => {
  /** kubectl with a PATH on which it looks for plugins (no flags may come before a plugin's name: KUBECONFIG). */
  function kubectlWithPath(args: string[], path: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(env().kubectl, args, { env: { ...process.env, PATH: path, KUBECONFIG: env().adminKubeconfig } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  it('kubectl irsa runs it (package.json bin kubectl-irsa on PATH)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'irsa-plugin-'));
    symlinkSync(CLI, join(bin, 'kubectl-irsa'));
    const path = `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    const help = await kubectlWithPath(['irsa', 'validate', '--help'], path);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: kubectl irsa validate/m);
    assert.match(help.stdout, /Examples:/);
    const plugins = await kubectlWithPath(['plugin', 'list'], path);
    assert.match(plugins.stdout, /kubectl-irsa/);
  });
});
