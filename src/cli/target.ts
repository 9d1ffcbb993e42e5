// The cluster the CLI renders and validates for: the operator's configuration file (--config) with
// flags on top, read by the operator's own parseConfig. The operator asks STS for the account and
// EKS for the issuer when its configuration leaves them out; the CLI asks nobody, so render needs
// them given.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseConfig, roleDefaults, type OperatorConfig } from '../config.ts';
import { eksClusterArn, issuerHostPath, oidcProviderArn, partitionForRegion, type Partition } from '../policy/arn.ts';
import { STS_AUDIENCE } from '../policy/audience.ts';
import type { ClusterIdentity, RoleDefaults } from '../policy/desired.ts';
import { isRecord } from './files.ts';
import { UsageError } from './output.ts';

export interface TargetOptions {
  config?: string;
  cluster?: string;
  region?: string;
  account?: string;
  issuer?: string;
  audienceDefault?: string;
}

/** Adds --config, --cluster, --region, --account, --issuer and --audience-default to a command. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', "the operator's configuration file (the YAML IRSA_CONFIG names, or the ConfigMap holding it)")
    .option('--cluster <name>', 'cluster name (config clusterName): part of role names and ownership tags')
    .option('--region <region>', 'AWS region of the cluster (config region): picks the partition')
    .option('--account <id>', 'AWS account of the roles (config accountId)')
    .option('--issuer <url>', "the cluster's OIDC issuer URL (config oidcIssuer)")
    .option(
      '--audience-default <aud>',
      "audience of objects that name none (config defaultAudience); the operator takes the one the OIDC provider lists, the CLI assumes sts.amazonaws.com (EKS's, in every partition)",
    );
}

export interface Target {
  config: OperatorConfig;
  /** Whether the configuration came from a file (--config); else it is the defaults and the flags. */
  configKnown: boolean;
  defaults: RoleDefaults;
  /** Undefined when region, account or issuer are unknown (validate without them). */
  identity: ClusterIdentity | undefined;
  clusterName: string;
  partition: Partition | undefined;
  audience: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the configuration file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isRecord(parsed)) throw new UsageError(`the configuration file ${file} must hold a YAML mapping`);
  // The ConfigMap that holds it (config/manager/config.yaml) is read as its config.yaml key.
  if (parsed.kind === 'ConfigMap' && isRecord(parsed.data) && typeof parsed.data['config.yaml'] === 'string') {
    const inner: unknown = parseYaml(parsed.data['config.yaml']);
    if (!isRecord(inner)) throw new UsageError(`data.config.yaml of the ConfigMap in ${file} must hold a YAML mapping`);
    return inner;
  }
  return parsed;
}

/** Placeholders for what validate may not know; they affect no check validate reports. */
const PLACEHOLDER = { clusterName: 'cluster', region: 'us-east-1' };

/**
 * The configuration and the cluster's identity from --config and the flags. `strict`: account,
 * issuer, cluster and region must be known (render).
 */
export function loadTarget(opts: TargetOptions, strict: boolean): Target {
  const raw: Record<string, unknown> = opts.config ? readConfigFile(opts.config) : {};
  const flags: [keyof TargetOptions, string][] = [
    ['cluster', 'clusterName'],
    ['region', 'region'],
    ['account', 'accountId'],
    ['issuer', 'oidcIssuer'],
    ['audienceDefault', 'defaultAudience'],
  ];
  for (const [flag, field] of flags) if (opts[flag] !== undefined) raw[field] = opts[flag];
  const missing = [
    ['clusterName', '--cluster'],
    ['region', '--region'],
    ['accountId', '--account'],
    ['oidcIssuer', '--issuer'],
  ].filter(([field]) => raw[field ?? ''] === undefined);
  if (strict && missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map(([f, flag]) => `${f} (${flag})`).join(', ')}: give them as flags or in --config (the operator asks STS and EKS for the account and issuer; the CLI asks nobody)`,
    );
  }
  const regionKnown = raw.region !== undefined;
  const withPlaceholders = { clusterName: PLACEHOLDER.clusterName, region: PLACEHOLDER.region, ...raw };
  let config: OperatorConfig;
  try {
    config = parseConfig(withPlaceholders);
  } catch (e) {
    throw new UsageError(e instanceof ConfigError ? e.message : String(e));
  }
  return {
    config,
    configKnown: opts.config !== undefined,
    defaults: roleDefaults(config),
    identity: regionKnown ? identityOf(config) : undefined,
    clusterName: config.clusterName,
    partition: regionKnown ? partitionForRegion(config.region) : undefined,
    audience: config.defaultAudience ?? STS_AUDIENCE,
  };
}

function identityOf(config: OperatorConfig): ClusterIdentity | undefined {
  if (config.accountId === undefined || config.oidcIssuer === undefined) return undefined;
  const partition = partitionForRegion(config.region);
  let hostPath: string;
  try {
    hostPath = issuerHostPath(config.oidcIssuer);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  return {
    clusterName: config.clusterName,
    partition,
    account: config.accountId,
    issuerHostPath: hostPath,
    oidcProviderArn: oidcProviderArn(partition, config.accountId, hostPath),
    // Offline the cluster is taken for the EKS cluster of that name (Pod Identity needs its ARN).
    clusterArn: eksClusterArn(partition, config.region, config.accountId, config.clusterName),
  };
}
