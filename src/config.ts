// Operator configuration: a YAML file (IRSA_CONFIG) overlaid by environment variables, validated
// with ajv. A bad value stops the operator with a message naming the field.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { RoleDefaults } from './policy/desired.ts';
import type { StalePodsMode } from './controller/pods.ts';
import {
  DEFAULT_DENIED_ACTIONS,
  DEFAULT_DENIED_POLICY_ARNS,
  DEFAULT_DENIED_WRITE_SERVICES,
  type AccountPolicy,
  type OperatorPolicy,
} from './policy/guard.ts';

/** An account the operator writes roles to besides its own: how it gets there, and who may use it. */
export interface AccountConfig extends AccountPolicy {
  /** The role in that account the operator assumes (sts:AssumeRole); config/iam/target-account-policy.json is its policy. */
  roleArn: string;
  /** The external ID that role's trust policy asks for, if any. */
  externalId?: string;
  /** IAM writes per second in that account; default: iamWritesPerSecond. */
  iamWritesPerSecond?: number;
}

/** The operator's configuration; the platform team's rules for tenants are its OperatorPolicy part. */
export interface OperatorConfig extends OperatorPolicy {
  /** Accounts besides the operator's own, by account ID. */
  accounts: Record<string, AccountConfig>;
  clusterName: string;
  region: string;
  /** Self-managed clusters: the service-account issuer URL. EKS: read from DescribeCluster when unset. */
  oidcIssuer?: string;
  /** From STS GetCallerIdentity when unset. */
  accountId?: string;
  /** Create the cluster's IAM OIDC provider, keep its thumbprint and add the audiences in use. */
  manageOidcProvider: boolean;
  /** PEM file of the CA that signs a self-managed issuer's serving certificate (its thumbprint is read over TLS). */
  oidcIssuerCAFile?: string;
  /** The audience of objects that name none; unset: the STS audience the OIDC provider lists. */
  defaultAudience?: string;
  /** Forced path prefix for every role. */
  rolePath: string;
  /** Forced permissions boundary for every role. */
  permissionsBoundary?: string;
  /** Namespaces to watch; empty means all. */
  watchNamespaces: string[];
  concurrency: number;
  driftPeriodSeconds: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Endpoint for IAM, STS and EKS (local IAM endpoints such as moto). */
  awsEndpoint?: string;
  trustPolicyLimit: number;
  maxManagedPolicies: number;
  /** IAM reads per second of a drift sweep; 0: no limit. */
  driftReadsPerSecond: number;
  /** IAM writes per second across all workers; 0: no limit. */
  iamWritesPerSecond: number;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  httpPort: number;
  /** Take over a role of the requested name that carries no irsa-operator tags at all. */
  adoptExistingRoles: boolean;
  /** Pods that predate their ServiceAccount's role annotations: off, report, or report and restart. */
  stalePods: StalePodsMode;
  podRestartsPerMinute: number;
  /** Only the replica holding the Lease reconciles. */
  leaderElection: boolean;
  leaderElectionNamespace: string;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clusterName', 'region'],
  properties: {
    clusterName: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$',
      description: 'EKS cluster name (or any stable name of a self-managed cluster); part of derived role names and ownership tags.',
    },
    region: { type: 'string', pattern: '^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$', description: 'AWS region of the cluster (AWS_REGION).' },
    oidcIssuer: {
      type: 'string',
      pattern: '^(https://)?[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s]*)?$',
      description: 'Service-account issuer URL; read from EKS DescribeCluster when unset.',
    },
    accountId: { type: 'string', pattern: '^[0-9]{12}$', description: 'AWS account of the roles; from STS GetCallerIdentity when unset.' },
    accounts: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[0-9]{12}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['roleArn'],
        properties: {
          roleArn: {
            type: 'string',
            pattern: '^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,576}$',
            description: 'The role in that account the operator assumes.',
          },
          externalId: { type: 'string', pattern: '^[\\w+=,.@:/-]{2,1224}$', description: "The external ID the role's trust asks for." },
          iamWritesPerSecond: {
            type: 'number',
            minimum: 0,
            maximum: 1000,
            description: 'IAM writes per second in that account; default: iamWritesPerSecond.',
          },
          allowedNamespaces: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            default: [],
            description:
              'Glob patterns of namespaces whose objects may use the account (a Namespace annotation irsa.dev/allowed-accounts adds it for that namespace); empty: none.',
          },
        },
      },
      description:
        "Accounts the operator writes roles to besides its own, by account ID: the role it assumes there (sts:AssumeRole), an optional external ID, that account's IAM write budget, and the namespaces that may use it. spec.account picks one. As YAML or, in IRSA_ACCOUNTS, JSON.",
    },
    manageOidcProvider: {
      type: 'boolean',
      default: false,
      description:
        "Create the IAM OIDC provider of the cluster's issuer where it is missing (tagged as the operator's), add the audiences objects use to its client IDs, and refresh its thumbprint when the issuer's certificate chain changes. Never deletes it.",
    },
    oidcIssuerCAFile: {
      type: 'string',
      minLength: 1,
      description:
        "PEM file of the CA that signs the issuer's serving certificate, when it is not a public CA (a self-managed issuer): the operator verifies the chain before taking its thumbprint.",
    },
    defaultAudience: {
      type: 'string',
      pattern: '^[!-~]{1,256}$',
      description:
        'Audience of objects that name none; unset: sts.amazonaws.com when the OIDC provider lists it, else sts.amazonaws.com.cn when listed.',
    },
    rolePrefix: { type: 'string', pattern: '^[\\w+=,.@-]{0,32}$', default: '', description: 'Prefix of derived role names.' },
    rolePath: { type: 'string', pattern: '^/([!-~]*/)?$', maxLength: 256, default: '/', description: 'Path prefix forced on every role.' },
    permissionsBoundary: {
      type: 'string',
      pattern: '^arn:aws(-cn|-us-gov)?:iam::(aws|[0-9]{12}):policy/.+$',
      description: 'Permissions boundary forced on every role.',
    },
    watchNamespaces: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      default: [],
      description: 'Namespaces to watch; empty: all.',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 8,
      description: 'Objects reconciled at once (never the same one twice).',
    },
    driftPeriodSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86400,
      default: 600,
      description: 'How often each object is re-read from IAM to repair drift.',
    },
    logLevel: { type: 'string', enum: ['error', 'warn', 'info', 'debug'], default: 'info', description: 'Log level.' },
    awsEndpoint: { type: 'string', pattern: '^https?://', description: 'Endpoint override for IAM, STS and EKS (local IAM endpoints).' },
    trustPolicyLimit: {
      type: 'integer',
      minimum: 2048,
      maximum: 8192,
      default: 2048,
      description:
        'Trust policy size quota of the account (IAM\'s "Role trust policy length", 2048 by default, raisable to 8192), in characters without white space; a larger trust stops the object (TrustPolicyTooLarge) before any IAM write.',
    },
    maxManagedPolicies: {
      type: 'integer',
      minimum: 1,
      maximum: 25,
      default: 10,
      description: 'Managed policies per role quota of the account.',
    },
    driftReadsPerSecond: {
      type: 'number',
      minimum: 0,
      maximum: 1000,
      default: 5,
      description:
        'IAM reads per second a drift sweep may make (pages of GetAccountAuthorizationDetails and ListRoles, policy versions); 0: no limit.',
    },
    iamWritesPerSecond: {
      type: 'number',
      minimum: 0,
      maximum: 1000,
      default: 5,
      description: 'IAM writes per second across all workers (token bucket); 0: no limit.',
    },
    httpPort: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Port of /healthz, /readyz and /metrics.' },
    allowedNamespaces: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Glob patterns of namespaces served; empty: all.',
    },
    allowedPolicyARNs: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: ['*'],
      description:
        'Glob patterns of managed policy ARNs that may be attached (a Namespace annotation irsa.dev/allowed-policy-arns adds to it for that namespace).',
    },
    deniedPolicyARNs: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: DEFAULT_DENIED_POLICY_ARNS,
      description: 'Glob patterns of managed policy ARNs never attached; wins over allowedPolicyARNs.',
    },
    deniedActions: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: DEFAULT_DENIED_ACTIONS,
      description:
        "Action globs (case-insensitive) no attached policy may grant: inline, customer-managed or AWS-managed, matched against IAM's action list, NotAction included.",
    },
    deniedWriteServices: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z0-9-]+$' },
      default: DEFAULT_DENIED_WRITE_SERVICES,
      description: 'Services (IAM prefixes) whose every Write, Permissions management and Tagging action no attached policy may grant.',
    },
    exemptActions: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Action globs taken out of the denied set, e.g. iam:CreateServiceLinkedRole.',
    },
    allowedActionPrefixes: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z0-9-]+:$' },
      default: [],
      description: 'Service prefixes inline policies may use, e.g. "s3:"; empty: any not denied.',
    },
    allowedIssuers: {
      type: 'array',
      items: { type: 'string', pattern: '^https://[^\\s*?]+$' },
      default: [],
      description:
        "Issuer URLs of other clusters a role's trust may also admit (spec.additionalClusters), compared exactly (host case and trailing slash aside); empty: none. Each cluster's OIDC provider must exist in the account.",
    },
    subjectPatternNamespaces: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        'Glob patterns of namespaces whose objects may use spec.subjectPattern (a StringLike sub admitting several ServiceAccounts of the namespace); empty: none. kube-system, kube-public and kube-node-lease never may.',
    },
    maxRolesPerNamespace: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'Roles per namespace (oldest objects first); 0: no cap.',
    },
    adoptExistingRoles: {
      type: 'boolean',
      default: false,
      description: 'Take over a role of the requested name that has no irsa-operator tags.',
    },
    stalePods: {
      type: 'string',
      enum: ['off', 'report', 'restart'],
      default: 'report',
      description:
        'Pods started before their ServiceAccount got its role annotations: report them (status, Event, metric; needs pods list), also restart their workloads for objects with spec.restartPods (needs workload patch), or off.',
    },
    podRestartsPerMinute: {
      type: 'number',
      minimum: 0.1,
      maximum: 600,
      default: 10,
      description: 'Workload restarts per minute across all objects (stalePods: restart).',
    },
    leaderElection: {
      type: 'boolean',
      default: false,
      description: 'Elect one active replica through a Lease (turn on with more than one replica).',
    },
    leaderElectionNamespace: {
      type: 'string',
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      default: 'irsa-system',
      description: "Namespace of the Lease irsa-operator (the operator's own namespace).",
    },
  },
} as const;

/** Environment variable for each field. */
export const CONFIG_ENV: Readonly<Record<keyof OperatorConfig, string>> = {
  clusterName: 'IRSA_CLUSTER_NAME',
  region: 'AWS_REGION',
  oidcIssuer: 'IRSA_OIDC_ISSUER',
  accountId: 'IRSA_ACCOUNT_ID',
  accounts: 'IRSA_ACCOUNTS',
  manageOidcProvider: 'IRSA_MANAGE_OIDC_PROVIDER',
  oidcIssuerCAFile: 'IRSA_OIDC_ISSUER_CA_FILE',
  defaultAudience: 'IRSA_DEFAULT_AUDIENCE',
  rolePrefix: 'IRSA_ROLE_PREFIX',
  rolePath: 'IRSA_ROLE_PATH',
  permissionsBoundary: 'IRSA_PERMISSIONS_BOUNDARY',
  watchNamespaces: 'IRSA_WATCH_NAMESPACES',
  concurrency: 'IRSA_CONCURRENCY',
  driftPeriodSeconds: 'IRSA_DRIFT_PERIOD_SECONDS',
  logLevel: 'IRSA_LOG_LEVEL',
  awsEndpoint: 'IRSA_AWS_ENDPOINT',
  trustPolicyLimit: 'IRSA_TRUST_POLICY_LIMIT',
  maxManagedPolicies: 'IRSA_MAX_MANAGED_POLICIES',
  iamWritesPerSecond: 'IRSA_IAM_WRITES_PER_SECOND',
  driftReadsPerSecond: 'IRSA_DRIFT_READS_PER_SECOND',
  httpPort: 'IRSA_HTTP_PORT',
  allowedNamespaces: 'IRSA_ALLOWED_NAMESPACES',
  allowedPolicyARNs: 'IRSA_ALLOWED_POLICY_ARNS',
  deniedPolicyARNs: 'IRSA_DENIED_POLICY_ARNS',
  deniedActions: 'IRSA_DENIED_ACTIONS',
  deniedWriteServices: 'IRSA_DENIED_WRITE_SERVICES',
  exemptActions: 'IRSA_EXEMPT_ACTIONS',
  allowedActionPrefixes: 'IRSA_ALLOWED_ACTION_PREFIXES',
  allowedIssuers: 'IRSA_ALLOWED_ISSUERS',
  subjectPatternNamespaces: 'IRSA_SUBJECT_PATTERN_NAMESPACES',
  maxRolesPerNamespace: 'IRSA_MAX_ROLES_PER_NAMESPACE',
  adoptExistingRoles: 'IRSA_ADOPT_EXISTING_ROLES',
  stalePods: 'IRSA_STALE_PODS',
  podRestartsPerMinute: 'IRSA_POD_RESTARTS_PER_MINUTE',
  leaderElection: 'IRSA_LEADER_ELECTION',
  leaderElectionNamespace: 'IRSA_LEADER_ELECTION_NAMESPACE',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true });
const validate = ajv.compile<OperatorConfig>(configSchema);

function describe(err: ErrorObject): string {
  const path = err.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const missing = (err.params as { missingProperty?: string }).missingProperty;
  const field = (err.keyword === 'required' ? [path, missing].filter(Boolean).join('.') : path) || '(root)';
  const key = field.split('.')[0] as keyof OperatorConfig;
  const env = key in CONFIG_ENV ? ` (env ${CONFIG_ENV[key]})` : '';
  if (err.keyword === 'required') return `${field}${env} is required`;
  if (err.keyword === 'additionalProperties') return `unknown field ${(err.params as { additionalProperty: string }).additionalProperty}`;
  return `${field}${env} ${err.message ?? 'is invalid'}`;
}

/** Validates a raw configuration object, filling defaults. Throws ConfigError naming each bad field. */
export function parseConfig(raw: unknown): OperatorConfig {
  const copy: unknown = structuredClone(raw);
  if (!validate(copy)) {
    throw new ConfigError(`invalid operator configuration: ${(validate.errors ?? []).map(describe).join('; ')}`);
  }
  const problems = accountProblems(copy);
  if (problems.length > 0) throw new ConfigError(`invalid operator configuration: ${problems.join('; ')}`);
  return copy;
}

/** What the schema cannot say about accounts: each role is in its own account, none is the operator's own. */
function accountProblems(config: OperatorConfig): string[] {
  return Object.entries(config.accounts).flatMap(([id, a]) => {
    if (id === config.accountId) return [`accounts.${id} is the operator's own account (accountId): remove it`];
    const roleAccount = a.roleArn.split(':')[4];
    return roleAccount === id ? [] : [`accounts.${id}.roleArn is a role of account ${roleAccount ?? '?'}: it must be a role of ${id}`];
  });
}

/** Reads IRSA_CONFIG (if set) and overlays the environment variables of CONFIG_ENV. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  let base: Record<string, unknown> = {};
  const file = env.IRSA_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read the configuration file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`the configuration file ${file} must hold a YAML mapping`);
    }
    base = (parsed ?? {}) as Record<string, unknown>;
  }
  for (const [field, name] of Object.entries(CONFIG_ENV)) {
    const value = env[name] ?? (field === 'region' ? env.AWS_DEFAULT_REGION : undefined);
    if (value === undefined || value === '') continue;
    const type = (configSchema.properties[field as keyof typeof configSchema.properties] as { type: string }).type;
    base[field] = type === 'array' ? splitList(value) : type === 'object' ? parseJson(name, value) : value;
  }
  return parseConfig(base);
}

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function parseJson(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new ConfigError(`${name} must be JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What the configuration forces on every role the operator manages. */
export function roleDefaults(config: OperatorConfig): RoleDefaults {
  return {
    rolePrefix: config.rolePrefix,
    rolePathPrefix: config.rolePath,
    permissionsBoundary: config.permissionsBoundary,
    trustPolicyLimit: config.trustPolicyLimit,
    maxManagedPolicies: config.maxManagedPolicies,
  };
}
