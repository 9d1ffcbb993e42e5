// The CLI's pure pieces: colour rules, field names, CEL values, doctor's targets and reasons, the
// import mappings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { celValue, checkCel, TRANSITION_RULES } from '../../../src/cli/cel.ts';
import { linkOfReason } from '../../../src/cli/doctor-checks.ts';
import { parseTarget } from '../../../src/cli/doctor.ts';
import { fieldName, lineOf, parseDocuments } from '../../../src/cli/files.ts';
import { parseFieldName } from '../../../src/cli/findings.ts';
import { exitCodeFor, programName } from '../../../src/cli/main.ts';
import { colourEnabled, paint, UsageError } from '../../../src/cli/output.ts';
import { specSchema } from '../../../src/api/schema.ts';
import { adoption } from '../../../src/cli/import-cluster.ts';
import { mapEksctlServiceAccount } from '../../../src/cli/import-eksctl.ts';
import { kiamWorkload, roleArnOf, serviceAccountNameFor } from '../../../src/cli/import-kiam.ts';
import { buildTrustPolicy } from '../../../src/policy/trust.ts';
import { loadTarget, type Target } from '../../../src/cli/target.ts';
import { validateObject, type ValidateContext } from '../../../src/cli/validate.ts';
import type { IamServiceAccountSpec } from '../../../src/api/types.ts';
import { resolveDeniedActions } from '../../../src/policy/actions.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tty = { isTTY: true, hasColors: () => true };

describe('colour', () => {
  it('only on a terminal with colours, never with NO_COLOR or --no-color', () => {
    assert.equal(colourEnabled(tty, {}), true);
    assert.equal(colourEnabled({ isTTY: false }, {}), false);
    assert.equal(colourEnabled({ isTTY: true, hasColors: () => false }, {}), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(colourEnabled(tty, {}, false), false);
    assert.equal(paint(false).red('x'), 'x');
    assert.equal(paint(true).red('x'), '\u001b[31mx\u001b[39m');
  });
});

describe('field names', () => {
  it('are written as the API server writes them, and read back', () => {
    assert.equal(fieldName(['spec', 'attachPolicyARNs', 0]), 'spec.attachPolicyARNs[0]');
    assert.equal(fieldName([]), '(root)');
    assert.deepEqual(parseFieldName('spec.attachPolicy.Statement[2]'), ['spec', 'attachPolicy', 'Statement', 2]);
  });

  it('have lines (yaml LineCounter), the key line for a field, the nearest ancestor for a missing one', () => {
    const [doc] = parseDocuments(
      'x.yaml',
      'apiVersion: irsa.dev/v1alpha1\nkind: IamServiceAccount\nmetadata:\n  name: a\nspec:\n  attachPolicyARNs:\n    - arn:a\n    - arn:b\n',
    );
    assert.ok(doc);
    assert.equal(lineOf(doc, ['spec', 'attachPolicyARNs', 1]), 8);
    assert.equal(lineOf(doc, ['spec', 'roleName']), 5);
    assert.equal(lineOf(doc, ['metadata', 'name']), 4);
  });
});

describe('CEL', () => {
  it('passes integers as CEL ints, following the schema', () => {
    assert.deepEqual(celValue({ maxSessionDuration: 3600, roleName: 'r' }, specSchema), { maxSessionDuration: 3600n, roleName: 'r' });
  });

  it('runs the CRD rules on the spec; the transition rules are left for the API server', () => {
    assert.deepEqual(checkCel({ spec: { attachRoleARN: 'arn:aws:iam::1:role/r' } }), []);
    const broken = checkCel({ spec: { attachRoleARN: 'arn:aws:iam::1:role/r', tags: { a: 'b' } } });
    assert.equal(broken.length, 1);
    assert.deepEqual(broken[0]?.path, ['spec']);
    assert.match(broken[0]?.message ?? '', /remove roleName, rolePath/);
    assert.equal(TRANSITION_RULES.length, 3);
  });
});

describe('doctor', () => {
  it('takes pod/, sa/ and iamsa/ targets with kubectl spellings', () => {
    assert.deepEqual(parseTarget('po/web'), { kind: 'pod', name: 'web' });
    assert.deepEqual(parseTarget('serviceaccount/x'), { kind: 'sa', name: 'x' });
    assert.deepEqual(parseTarget('iamserviceaccounts/y'), { kind: 'iamsa', name: 'y' });
    assert.throws(() => parseTarget('deployment/web'), UsageError);
  });

  it('blames the link a condition reason is about', () => {
    assert.equal(linkOfReason('AudienceNotAllowedByProvider'), 'oidc-provider');
    assert.equal(linkOfReason('TrustPolicyMismatch'), 'trust');
    assert.equal(linkOfReason('RoleNotOwned'), 'role');
    assert.equal(linkOfReason('ServiceAccountExists'), 'serviceaccount');
    assert.equal(linkOfReason('InvalidSpec'), 'object');
  });
});

describe('the program', () => {
  it('is kubectl irsa when kubectl runs it as a plugin', () => {
    assert.equal(programName('/usr/local/bin/kubectl-irsa'), 'kubectl irsa');
    assert.equal(programName('/usr/local/bin/irsa'), 'irsa');
  });

  it('maps failures to the documented exit codes', () => {
    assert.equal(exitCodeFor(new UsageError('x')), 2);
    assert.equal(exitCodeFor(new Error('bug')), 4);
  });
});

describe('import', () => {
  it('eksctl: maps every field eksctl has, and names each one it cannot', () => {
    const r = mapEksctlServiceAccount(
      {
        metadata: { name: 'a', namespace: 'n', labels: { x: 'y' }, annotations: { 'eks.amazonaws.com/audience': 'aud', other: 'o' } },
        attachPolicyARNs: ['arn:aws:iam::aws:policy/P', 'not-an-arn'],
        wellKnownPolicies: { autoScaler: true, superUser: true },
        tags: { team: 't', 'aws:x': 'y' },
        roleName: 'r',
        bogus: 1,
      },
      0,
      'c',
    );
    assert.ok('object' in r);
    assert.deepEqual(r.object.spec, {
      roleName: 'r',
      tags: { team: 't' },
      attachPolicyARNs: ['arn:aws:iam::aws:policy/P'],
      wellKnownPolicies: { autoScaler: true },
      audience: 'aud',
      serviceAccount: { labels: { x: 'y' }, annotations: { other: 'o' }, overrideExisting: true },
    });
    assert.deepEqual(
      r.warnings?.map((w) => w.split(': ')[1]),
      ['bogus', 'tags.aws:x', 'attachPolicyARNs[1]', 'wellKnownPolicies.superUser'],
    );
  });

  it('kiam: role names resolve below the base ARN; ServiceAccount names are DNS labels', () => {
    const o = { account: '123456789012', partition: 'aws' as const, issuerHostPath: 'oidc/x', audience: 'sts.amazonaws.com' };
    assert.equal(roleArnOf('app', o), 'arn:aws:iam::123456789012:role/app');
    assert.equal(roleArnOf('app', { ...o, roleBaseArn: 'arn:aws:iam::1:role/kiam/' }), 'arn:aws:iam::1:role/kiam/app');
    assert.equal(serviceAccountNameFor('arn:aws:iam::1:role/Payments_Reader'), 'payments-reader');
    const cron = {
      kind: 'CronJob',
      metadata: { name: 'c', namespace: 'n' },
      spec: { jobTemplate: { spec: { template: { metadata: { annotations: { 'iam.amazonaws.com/role': 'r' } }, spec: {} } } } },
    };
    assert.deepEqual(kiamWorkload(cron), { kind: 'CronJob', namespace: 'n', name: 'c', serviceAccount: 'default', role: 'r' });
  });

  it('cluster: adopts a role only when its trust is the one the operator writes', () => {
    const sa = { namespace: 'n', name: 's', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/r' } };
    const trust = buildTrustPolicy({
      oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc/x',
      issuerHostPath: 'oidc/x',
      namespace: 'n',
      serviceAccountName: 's',
      audience: 'sts.amazonaws.com',
    });
    const role = {
      name: 'r',
      path: '/',
      arn: 'arn:aws:iam::123456789012:role/r',
      description: '',
      maxSessionDuration: 3600,
      permissionsBoundary: undefined,
      trustPolicy: JSON.stringify(trust),
      tags: {},
      managedPolicyArns: ['arn:aws:iam::aws:policy/P'],
      inlinePolicies: {},
    };
    const o = { issuerHostPath: 'oidc/x', maxManagedPolicies: 10, rolePrefix: '', adopt: true };
    const yes = adoption(sa, role.arn, role, o);
    assert.ok(yes.adopt);
    assert.deepEqual(yes.spec, { roleName: 'r', deletionPolicy: 'Retain', attachPolicyARNs: ['arn:aws:iam::aws:policy/P'] });
    const other = adoption({ ...sa, name: 't' }, role.arn, role, o);
    assert.equal(other.adopt, false);
    assert.equal(adoption(sa, role.arn, { ...role, tags: { 'irsa.dev/managed-by': 'irsa-operator' } }, o).adopt, false);
  });
});

describe('validate: spec.account offline', () => {
  const TARGET = '210987654321';
  const obj = (spec: Record<string, unknown>) => ({
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { name: 'app', namespace: 'payments' },
    spec,
  });
  const findings = async (target: Target, spec: Record<string, unknown>) =>
    validateObject(obj(spec), { target, denied: await resolveDeniedActions(target.config), namespace: undefined });
  const withConfig = (accounts: Record<string, unknown>): Target => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-cli-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, JSON.stringify({ clusterName: 'prod', region: 'eu-west-1', accountId: '123456789012', accounts }));
    return loadTarget({ config: file }, false);
  };

  it("without the operator's account, a role of an account the configuration does not name is not judged (it may be the own one)", async () => {
    assert.deepEqual(await findings(loadTarget({}, false), { account: TARGET }), []);
    assert.deepEqual(await findings(loadTarget({}, false), { attachRoleARN: `arn:aws:iam::${TARGET}:role/r` }), []);
  });

  it('with the own account but no configuration file: a warning (only the configuration can tell)', async () => {
    const [f] = await findings(loadTarget({ account: '123456789012' }, false), { account: TARGET });
    assert.equal(f?.severity, 'warning');
    assert.match(f?.message ?? '', /AccountNotAllowed: .*unless the operator's configuration names it/);
    assert.deepEqual(f?.path, ['spec', 'account']);
  });

  it('with the configuration: an account it lacks is an error; one not open to the namespace a warning (a Namespace annotation may open it)', async () => {
    const [missing] = await findings(withConfig({}), { account: TARGET });
    assert.equal(missing?.severity, 'error');
    const closed = withConfig({ [TARGET]: { roleArn: `arn:aws:iam::${TARGET}:role/irsa-operator-target`, allowedNamespaces: ['team-*'] } });
    const [f] = await findings(closed, { account: TARGET });
    assert.equal(f?.severity, 'warning');
    assert.match(f?.message ?? '', /AccountNotAllowedInNamespace: .*irsa\.dev\/allowed-accounts/);
    const open = withConfig({ [TARGET]: { roleArn: `arn:aws:iam::${TARGET}:role/irsa-operator-target`, allowedNamespaces: ['pay*'] } });
    assert.deepEqual(await findings(open, { account: TARGET }), []);
  });

  it('Pod Identity with a role in another account: an error on spec.account (PodIdentityNeedsOwnAccount); in the own account none', async () => {
    const open = withConfig({ [TARGET]: { roleArn: `arn:aws:iam::${TARGET}:role/irsa-operator-target`, allowedNamespaces: ['pay*'] } });
    for (const identity of ['PodIdentity', 'Both']) {
      const [f, ...more] = await findings(open, { account: TARGET, identity });
      assert.equal(f?.severity, 'error', identity);
      assert.match(f?.message ?? '', /PodIdentityNeedsOwnAccount: .*use the own account .* or identity IRSA/);
      assert.deepEqual(f?.path, ['spec', 'account']);
      assert.deepEqual(more, []);
    }
    assert.deepEqual(await findings(open, { account: TARGET, identity: 'IRSA' }), []);
    assert.deepEqual(await findings(open, { account: '123456789012', identity: 'PodIdentity' }), []);
  });
});

describe('validate: other clusters and subject patterns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-cli-unit-'));
  const OTHER = 'https://oidc.eks.us-west-2.amazonaws.com/id/B';
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    JSON.stringify({ clusterName: 'prod', region: 'eu-west-1', allowedIssuers: [OTHER], subjectPatternNamespaces: ['ci'] }),
  );
  const ctx: ValidateContext = { target: loadTarget({ config }, false), denied: [], namespace: undefined };
  const findings = (namespace: string, spec: IamServiceAccountSpec) =>
    validateObject({ apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name: 'app', namespace }, spec }, ctx).map(
      (f) => `${fieldName(f.path)}: ${f.message}`,
    );

  const cases: { name: string; namespace?: string; spec: IamServiceAccountSpec; want: RegExp | undefined }[] = [
    { name: 'an allowed cluster', spec: { additionalClusters: [{ issuer: OTHER }] }, want: undefined },
    {
      name: 'a cluster not allowed',
      spec: { additionalClusters: [{ issuer: OTHER }, { issuer: 'https://c.example.com' }] },
      want: /^spec\.additionalClusters\[1\]: IssuerNotAllowed: spec\.additionalClusters\[1\]: the operator may not trust the issuer https:\/\/c\.example\.com/,
    },
    {
      name: 'a cluster listed twice',
      spec: { additionalClusters: [{ issuer: OTHER }, { issuer: OTHER }] },
      want: /^spec\.additionalClusters\[1\]\.issuer: InvalidSpec: .*repeats spec\.additionalClusters\[0\]\.issuer/,
    },
    {
      name: 'too many clusters',
      spec: {
        additionalClusters: Array.from({ length: 5 }, (_, i) => ({
          issuer: `https://oidc.eks.us-west-2.amazonaws.com/id/${String(i).repeat(32)}`,
        })),
      },
      want: /^spec\.additionalClusters: TrustPolicyTooLarge: the trust policy would be \d+ characters/,
    },
    { name: 'a pattern where allowed', namespace: 'ci', spec: { subjectPattern: 'app*' }, want: undefined },
    { name: 'a pattern where not allowed', spec: { subjectPattern: 'app*' }, want: /^spec\.subjectPattern: SubjectPatternNotAllowed: / },
    {
      name: 'a pattern missing the ServiceAccount',
      namespace: 'ci',
      spec: { subjectPattern: 'ci-*' },
      want: /^spec\.subjectPattern: InvalidSpec: /,
    },
    {
      name: 'an escape',
      spec: { subjectPattern: 'kube-system:*' },
      want: /^spec\.subjectPattern: Invalid value: "kube-system:\*": should match/,
    },
  ];
  for (const tc of cases) {
    it(`${tc.name}: ${tc.want ? 'names the field' : 'passes'}`, () => {
      const got = findings(tc.namespace ?? 'team', tc.spec);
      if (!tc.want) {
        assert.deepEqual(got, []);
        return;
      }
      assert.equal(got.length, 1, got.join('\n'));
      assert.match(got[0] ?? '', tc.want);
    });
  }
});
