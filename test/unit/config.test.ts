import { DEFAULT_DENIED_ACTIONS, DEFAULT_DENIED_WRITE_SERVICES, DEFAULT_DENIED_POLICY_ARNS } from '../../src/policy/guard.ts';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_ENV, ConfigError, configSchema, loadConfig, parseConfig, type OperatorConfig } from '../../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'irsa-config-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
function yamlFile(text: string): string {
  const path = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

const DEFAULTS = {
  rolePrefix: '',
  accounts: {},
  manageOidcProvider: false,
  rolePath: '/',
  watchNamespaces: [],
  concurrency: 8,
  driftPeriodSeconds: 600,
  logLevel: 'info',
  trustPolicyLimit: 2048,
  maxManagedPolicies: 10,
  iamWritesPerSecond: 5,
  driftReadsPerSecond: 5,
  allowedNamespaces: [] as string[],
  allowedPolicyARNs: ['*'] as string[],
  deniedPolicyARNs: DEFAULT_DENIED_POLICY_ARNS,
  deniedActions: DEFAULT_DENIED_ACTIONS,
  deniedWriteServices: DEFAULT_DENIED_WRITE_SERVICES,
  exemptActions: [],
  allowedActionPrefixes: [] as string[],
  allowedIssuers: [] as string[],
  subjectPatternNamespaces: [] as string[],
  maxRolesPerNamespace: 0,
  adoptExistingRoles: false,
  stalePods: 'report',
  podRestartsPerMinute: 10,
  leaderElection: false,
  leaderElectionNamespace: 'irsa-system',
  httpPort: 8080,
} as const;

function configError(fn: () => unknown, ...want: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    assert.equal(e.name, 'ConfigError');
    for (const w of want) assert.match(e.message, w);
    return true;
  });
}

describe('parseConfig', () => {
  it('fills the defaults', () => {
    assert.deepEqual(parseConfig({ clusterName: 'prod', region: 'eu-west-1' }), { clusterName: 'prod', region: 'eu-west-1', ...DEFAULTS });
  });

  it('does not modify its input', () => {
    const raw = { clusterName: 'prod', region: 'eu-west-1' };
    parseConfig(raw);
    assert.deepEqual(raw, { clusterName: 'prod', region: 'eu-west-1' });
  });

  it('gives each result its own default list', () => {
    const a = parseConfig({ clusterName: 'a', region: 'eu-west-1' });
    a.watchNamespaces.push('x');
    assert.deepEqual(parseConfig({ clusterName: 'b', region: 'eu-west-1' }).watchNamespaces, []);
  });

  it('names clusterName and IRSA_CLUSTER_NAME when the cluster name is missing', () => {
    configError(() => parseConfig({ region: 'eu-west-1' }), /clusterName \(env IRSA_CLUSTER_NAME\) is required/);
  });

  it('names every missing field at once', () => {
    configError(() => parseConfig({}), /clusterName \(env IRSA_CLUSTER_NAME\) is required/, /region \(env AWS_REGION\) is required/);
  });

  const bad: { name: string; raw: Record<string, unknown>; want: RegExp }[] = [
    { name: 'a bad region', raw: { region: 'europe' }, want: /region \(env AWS_REGION\) must match pattern/ },
    { name: 'a bad cluster name', raw: { clusterName: 'has space' }, want: /clusterName \(env IRSA_CLUSTER_NAME\) must match pattern/ },
    { name: 'an account that is not 12 digits', raw: { accountId: '1234' }, want: /accountId \(env IRSA_ACCOUNT_ID\) must match pattern/ },
    { name: 'a rolePath without trailing slash', raw: { rolePath: '/a' }, want: /rolePath \(env IRSA_ROLE_PATH\) must match pattern/ },
    { name: 'concurrency 0', raw: { concurrency: 0 }, want: /concurrency \(env IRSA_CONCURRENCY\) must be >= 1/ },
    {
      name: 'a trust policy limit under 2048',
      raw: { trustPolicyLimit: 2047 },
      want: /trustPolicyLimit \(env IRSA_TRUST_POLICY_LIMIT\) must be >= 2048/,
    },
    {
      name: 'an unknown log level',
      raw: { logLevel: 'trace' },
      want: /logLevel \(env IRSA_LOG_LEVEL\) must be equal to one of the allowed values/,
    },
    {
      name: 'a bad namespace in the list',
      raw: { watchNamespaces: ['ok', 'Not_OK'] },
      want: /watchNamespaces\.1 \(env IRSA_WATCH_NAMESPACES\) must match pattern/,
    },
    {
      name: 'an endpoint without scheme',
      raw: { awsEndpoint: 'localhost:5000' },
      want: /awsEndpoint \(env IRSA_AWS_ENDPOINT\) must match pattern/,
    },
    {
      name: 'a boundary that is not a policy ARN',
      raw: { permissionsBoundary: 'boundary' },
      want: /permissionsBoundary \(env IRSA_PERMISSIONS_BOUNDARY\) must match pattern/,
    },
    { name: 'an unknown field', raw: { clusterNmae: 'x' }, want: /unknown field clusterNmae/ },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}`, () => {
      configError(() => parseConfig({ clusterName: 'prod', region: 'eu-west-1', ...tc.raw }), /^invalid operator configuration: /, tc.want);
    });
  }

  const regions: string[] = ['us-east-1', 'eu-central-2', 'cn-north-1', 'us-gov-west-1', 'ap-southeast-4'];
  for (const region of regions) {
    it(`accepts region ${region}`, () => {
      assert.equal(parseConfig({ clusterName: 'prod', region }).region, region);
    });
  }

  it('every field has an environment variable', () => {
    assert.deepEqual(Object.keys(CONFIG_ENV).sort(), Object.keys(configSchema.properties).sort());
  });
});

describe('parseConfig: accounts', () => {
  const base = { clusterName: 'prod', region: 'eu-west-1' };
  const role = (account: string) => `arn:aws:iam::${account}:role/irsa-operator-target`;

  it('takes an account with its role, external ID and write budget; allowedNamespaces default to none', () => {
    const c = parseConfig({
      ...base,
      accounts: { '210987654321': { roleArn: role('210987654321'), externalId: 'prod-irsa', iamWritesPerSecond: 2 } },
    });
    assert.deepEqual(c.accounts, {
      '210987654321': { roleArn: role('210987654321'), externalId: 'prod-irsa', iamWritesPerSecond: 2, allowedNamespaces: [] },
    });
  });

  it('refuses a key that is not an account ID, a role of another account, the own account, and unknown fields', () => {
    configError(() => parseConfig({ ...base, accounts: { prod: { roleArn: role('210987654321') } } }), /accounts/);
    configError(
      () => parseConfig({ ...base, accounts: { '210987654321': { roleArn: role('111111111111') } } }),
      /accounts\.210987654321\.roleArn is a role of account 111111111111: it must be a role of 210987654321/,
    );
    configError(
      () => parseConfig({ ...base, accountId: '210987654321', accounts: { '210987654321': { roleArn: role('210987654321') } } }),
      /accounts\.210987654321 is the operator's own account/,
    );
    configError(
      () => parseConfig({ ...base, accounts: { '210987654321': { roleArn: role('210987654321'), region: 'x' } } }),
      /unknown field region/,
    );
    configError(() => parseConfig({ ...base, accounts: { '210987654321': {} } }), /roleArn/);
  });

  it('refuses a manageOidcProvider that is not a boolean and an empty oidcIssuerCAFile', () => {
    configError(
      () => parseConfig({ ...base, manageOidcProvider: 'sometimes' }),
      /manageOidcProvider \(env IRSA_MANAGE_OIDC_PROVIDER\) must be boolean/,
    );
    configError(() => parseConfig({ ...base, oidcIssuerCAFile: '' }), /oidcIssuerCAFile \(env IRSA_OIDC_ISSUER_CA_FILE\)/);
    assert.equal(loadConfig({ ...env(base), IRSA_MANAGE_OIDC_PROVIDER: 'true' }).manageOidcProvider, true);
  });

  it('reads IRSA_ACCOUNTS as JSON, and names it when it is not', () => {
    const accounts = { '210987654321': { roleArn: role('210987654321'), allowedNamespaces: ['team-*'] } };
    assert.deepEqual(loadConfig({ ...env(base), IRSA_ACCOUNTS: JSON.stringify(accounts) }).accounts, accounts);
    configError(() => loadConfig({ ...env(base), IRSA_ACCOUNTS: '210987654321=x' }), /IRSA_ACCOUNTS must be JSON/);
  });
});

/** The environment variables of cluster name and region. */
function env(c: { clusterName: string; region: string }): NodeJS.ProcessEnv {
  return { IRSA_CLUSTER_NAME: c.clusterName, AWS_REGION: c.region };
}

describe('loadConfig', () => {
  it('reads everything from the environment and fills defaults', () => {
    assert.deepEqual(loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1' }), {
      clusterName: 'prod',
      region: 'eu-west-1',
      ...DEFAULTS,
    });
  });

  it('falls back to AWS_DEFAULT_REGION', () => {
    assert.equal(loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_DEFAULT_REGION: 'cn-north-1' }).region, 'cn-north-1');
    assert.equal(loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'cn-north-1' }).region, 'eu-west-1');
  });

  it('names clusterName and IRSA_CLUSTER_NAME when missing', () => {
    configError(() => loadConfig({ AWS_REGION: 'eu-west-1' }), /clusterName/, /IRSA_CLUSTER_NAME/);
  });

  it('names region when the region is bad', () => {
    configError(() => loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'Frankfurt' }), /region \(env AWS_REGION\)/);
  });

  it('coerces numbers from the environment and names a bad one', () => {
    const c = loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1', IRSA_CONCURRENCY: '12', IRSA_HTTP_PORT: '0' });
    assert.equal(c.concurrency, 12);
    assert.equal(c.httpPort, 0);
    configError(
      () => loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1', IRSA_CONCURRENCY: 'many' }),
      /concurrency \(env IRSA_CONCURRENCY\) must be integer/,
    );
  });

  const lists: { name: string; value: string; want: string[] }[] = [
    { name: 'one namespace', value: 'team-a', want: ['team-a'] },
    { name: 'comma-separated', value: 'team-a,team-b', want: ['team-a', 'team-b'] },
    { name: 'spaces and empty items', value: ' team-a , ,team-b,', want: ['team-a', 'team-b'] },
  ];
  for (const tc of lists) {
    it(`splits IRSA_WATCH_NAMESPACES: ${tc.name}`, () => {
      assert.deepEqual(
        loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1', IRSA_WATCH_NAMESPACES: tc.value }).watchNamespaces,
        tc.want,
      );
    });
  }

  it('ignores empty environment variables', () => {
    assert.equal(
      loadConfig({ IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1', IRSA_ROLE_PREFIX: '', IRSA_CONCURRENCY: '' }).concurrency,
      8,
    );
  });

  it('reads the YAML file of IRSA_CONFIG', () => {
    const file = yamlFile(
      'clusterName: prod\nregion: us-gov-west-1\nrolePath: /irsa/\nwatchNamespaces: [a, b]\nconcurrency: 2\npermissionsBoundary: arn:aws-us-gov:iam::123456789012:policy/b\n',
    );
    const want: OperatorConfig = {
      ...DEFAULTS,
      clusterName: 'prod',
      region: 'us-gov-west-1',
      rolePath: '/irsa/',
      watchNamespaces: ['a', 'b'],
      concurrency: 2,
      permissionsBoundary: 'arn:aws-us-gov:iam::123456789012:policy/b',
    };
    assert.deepEqual(loadConfig({ IRSA_CONFIG: file }), want);
  });

  it('lets the environment override the file', () => {
    const file = yamlFile('clusterName: from-file\nregion: eu-west-1\nconcurrency: 2\nwatchNamespaces: [a]\nlogLevel: debug\n');
    const c = loadConfig({ IRSA_CONFIG: file, IRSA_CLUSTER_NAME: 'from-env', IRSA_CONCURRENCY: '16', IRSA_WATCH_NAMESPACES: 'x,y' });
    assert.equal(c.clusterName, 'from-env');
    assert.equal(c.concurrency, 16);
    assert.deepEqual(c.watchNamespaces, ['x', 'y']);
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.logLevel, 'debug');
  });

  it('accepts an empty file', () => {
    const file = yamlFile('');
    assert.equal(loadConfig({ IRSA_CONFIG: file, IRSA_CLUSTER_NAME: 'prod', AWS_REGION: 'eu-west-1' }).clusterName, 'prod');
  });

  it('refuses a file that is not a mapping', () => {
    const file = yamlFile('- a\n- b\n');
    configError(() => loadConfig({ IRSA_CONFIG: file }), /must hold a YAML mapping/);
  });

  it('refuses a file that is not YAML', () => {
    const file = yamlFile('clusterName: [unclosed\n');
    configError(() => loadConfig({ IRSA_CONFIG: file }), /cannot read the configuration file/);
  });

  it('names a missing file', () => {
    const missing = join(dir, 'missing.yaml');
    configError(
      () => loadConfig({ IRSA_CONFIG: missing }),
      new RegExp(`cannot read the configuration file ${missing.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
  });

  it('refuses an unknown field in the file', () => {
    const file = yamlFile('clusterName: prod\nregion: eu-west-1\nnamespaces: [a]\n');
    configError(() => loadConfig({ IRSA_CONFIG: file }), /unknown field namespaces/);
  });
});
