// The accounts the operator writes roles to besides its own: for each, IAM through credentials of
// the configured role there (sts:AssumeRole, with its external ID), its own IAM write budget and
// its own account-wide drift sweep. The credentials come from @aws-sdk/credential-providers'
// fromTemporaryCredentials; the IAM client keeps them and asks STS again five minutes before they
// expire. Made on first use, one set per account.
import { IAMClient } from '@aws-sdk/client-iam';
import { fromTemporaryCredentials, type FromTemporaryCredentialsOptions } from '@aws-sdk/credential-providers';
import type { AccountConfig, OperatorConfig } from '../config.ts';
import type { AccountAccess } from '../controller/ports.ts';
import { errorMessage, WaitError } from '../errors.ts';
import { WriteBudget } from './budget.ts';
import type { CallOptions } from './call.ts';
import { sdkConfig } from './clients.ts';
import { IamRoles } from './iam.ts';
import { IamSweep } from './sweep.ts';

type CredentialProvider = ReturnType<typeof fromTemporaryCredentials>;

/** How long assumed-role credentials last; the client renews them five minutes before. */
const SESSION_SECONDS = 3600;

/**
 * Credentials of `entry.roleArn`, assumed with the operator's own. A refusal is told as
 * AccountCredentialsRefused (the object waits and looks again), not as the IAM call it held up.
 * `clientPlugins` go to the STS client that assumes the role (the operator-policy simulation
 * answers STS in memory through one).
 */
export function assumedRoleCredentials(
  config: OperatorConfig,
  accountId: string,
  entry: AccountConfig,
  clientPlugins: FromTemporaryCredentialsOptions['clientPlugins'] = [],
): CredentialProvider {
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: entry.roleArn,
      RoleSessionName: `irsa-operator-${config.clusterName}`.slice(0, 64),
      DurationSeconds: SESSION_SECONDS,
      ...(entry.externalId === undefined ? {} : { ExternalId: entry.externalId }),
    },
    clientConfig: sdkConfig(config),
    clientPlugins,
  });
  return async (props) => {
    try {
      return await provider(props);
    } catch (e) {
      throw new WaitError(
        'AccountCredentialsRefused',
        `STS refused AssumeRole of ${entry.roleArn} for account ${accountId}: ${errorMessage(e)}; check that role's trust policy (config/iam/target-account-trust.json: the operator's role, the external ID) and the operator's sts:AssumeRole permission`,
      );
    }
  };
}

export class Accounts {
  private readonly config: OperatorConfig;
  private readonly opts: CallOptions;
  private readonly access = new Map<string, AccountAccess>();
  private readonly clients: IAMClient[] = [];

  constructor(config: OperatorConfig, opts: CallOptions) {
    this.config = config;
    this.opts = opts;
  }

  /** IAM of a configured account; undefined for any other. */
  get(accountId: string): AccountAccess | undefined {
    const entry = this.config.accounts[accountId];
    if (!entry) return undefined;
    let access = this.access.get(accountId);
    if (!access) {
      const iam = new IAMClient({ ...sdkConfig(this.config), credentials: assumedRoleCredentials(this.config, accountId, entry) });
      this.clients.push(iam);
      const readBudget = new WriteBudget(this.config.driftReadsPerSecond);
      access = {
        roles: new IamRoles(iam, this.opts, new WriteBudget(entry.iamWritesPerSecond ?? this.config.iamWritesPerSecond)),
        // As the own account's: a sweep is tried again by the sweeper, its pages by the SDK only.
        sweep: { roles: new IamSweep(iam, { ...this.opts, retries: 0 }, () => readBudget.take()), budget: readBudget },
      };
      this.access.set(accountId, access);
    }
    return access;
  }

  destroy(): void {
    for (const c of this.clients) c.destroy();
  }
}
