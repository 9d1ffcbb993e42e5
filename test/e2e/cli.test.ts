// The irsa CLI against the real servers. render: for every example, what `irsa render` prints is
// what the operator wrote to IAM and to the ServiceAccount (as JSON, keys sorted). validate: every
// example passes; every object of the bad-input corpus the API server rejects, validate rejects
// offline, naming the field the API server names (asked with kubectl apply --dry-run=server); 100
// files are checked in about a second. doctor: with the real pod identity webhook, it names the
// broken link of a healthy pod (none), a pod started before the annotation, an audience the OIDC
// provider does not list, a hand-annotated foreign ServiceAccount and a role deleted behind the
// operator's back. Ends with one line:
//   cli: validate_agree=N/M render_equal=N/M doctor_cases=N/N import_ready=N/M
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteRoleCommand,
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
import type { Rendered } from '../../src/cli/render.ts';
import type { Operator } from '../../src/operator.ts';
import { sortKeys } from '../../src/cli/output.ts';
import { BAD_NS, caseDocument, cases } from '../badinput/cases.ts';
import { SETUP } from './example-setup.ts';
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
import { identityFlags, runCli } from './cli-run.ts';
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
async function roleInIam(region: string, name: string): Promise<Record<string, unknown>> {
  const client = iam(region);
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
      const op = await startOperator({ region, watchNamespaces: [ns] });
      try {
        await kubectl(['apply', '-n', ns, '-f', path]);
        const obj = await waitForCondition(ns, example.metadata.name, 'Ready', 'True');
        const run = await runCli(['render', '-f', path, '-n', ns, ...identityFlags(region), '-o', 'json']);
        assert.equal(run.code, 0, run.stderr);
        const [rendered] = JSON.parse(run.stdout) as Rendered[];
        assert.ok(rendered);
        assert.equal(rendered.roleArn, obj.status?.roleARN);
        if (rendered.role) assert.equal(canonical(rendered.role), canonical(await roleInIam(region, rendered.role.name)));
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
  it('passes every file in examples/', async () => {
    const run = await runCli(['validate', '-f', 'examples/']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /9 files, 9 IamServiceAccounts: 0 errors, 0 warnings/);
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
    const examples = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml') && f !== 'china-region.yaml');
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
