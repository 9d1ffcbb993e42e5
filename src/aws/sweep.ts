// Every role of the account in a few paged calls, for the drift check: GetAccountAuthorizationDetails
// (Filter=Role) returns each role with its trust, attached and inline policies, boundary and tags;
// ListRoles under the operator's path adds the description and session duration it leaves out.
// One sweep costs (roles in the account / 100) + (roles under the path / 100) calls, instead of
// two to four reads per object. The caller bounds them with its read budget. Roles are handed
// over as each page arrives, so a sweep holds one page of the account, not all of it.
import { GetAccountAuthorizationDetailsCommand, ListRolesCommand, type IAMClient, type RoleDetail } from '@aws-sdk/client-iam';
import type { ActualRole } from '../policy/diff.ts';
import { callAws, type CallOptions } from './call.ts';
import { flatString } from '../strings.ts';
import { forEachPage } from './pages.ts';

/**
 * Roles per page, for both calls: IAM's default, not its maximum (1,000). The SDK's XML parsing
 * holds about 75 KB per role of a page while it reads it (a page of 200 roles took the operator's
 * RSS up 15 MB for a moment; at 1,000 it was the 280 MB spike of the N=10,000 run), and a sweep
 * at 100 costs 2 calls per 100 roles a drift period: 0.02 reads per object.
 */
export const SWEEP_PAGE = 100;

interface RoleSettings {
  description: string;
  maxSessionDuration: number;
}

export class IamSweep {
  private readonly iam: IAMClient;
  private readonly opts: CallOptions;
  /** Called before each page: the drift sweep's read budget. */
  private readonly beforeCall: () => Promise<void>;
  private readonly pageSize: number;

  constructor(iam: IAMClient, opts: CallOptions, beforeCall: () => Promise<void> = () => Promise.resolve(), pageSize = SWEEP_PAGE) {
    this.iam = iam;
    this.opts = opts;
    this.beforeCall = beforeCall;
    this.pageSize = pageSize;
  }

  /**
   * Each role whose name `wanted` accepts, whole, as its page arrives. A role under `pathPrefix`
   * gets its description and session duration from ListRoles (read first: a name and two fields
   * per role); one elsewhere (an attachRoleARN role) is read for its trust.
   */
  async readEach(pathPrefix: string, wanted: (name: string) => boolean, onRole: (role: ActualRole) => void): Promise<void> {
    const settings = await this.settings(pathPrefix);
    await forEachPage(
      (Marker) =>
        this.page('GetAccountAuthorizationDetails', () =>
          this.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: this.pageSize, Marker })),
        ),
      (page) => {
        for (const d of page.RoleDetailList ?? []) if (d.RoleName && wanted(d.RoleName)) onRole(actualRole(d, settings.get(d.RoleName)));
      },
    );
  }

  private async settings(pathPrefix: string): Promise<Map<string, RoleSettings>> {
    const out = new Map<string, RoleSettings>();
    await forEachPage(
      (Marker) =>
        this.page('ListRoles', () => this.iam.send(new ListRolesCommand({ PathPrefix: pathPrefix, MaxItems: this.pageSize, Marker }))),
      (page) => {
        for (const r of page.Roles ?? []) {
          // Copies: kept through the sweep, a slice of the page would keep the whole page (strings.ts).
          if (r.RoleName)
            out.set(flatString(r.RoleName), {
              description: flatString(r.Description ?? ''),
              maxSessionDuration: r.MaxSessionDuration ?? 3600,
            });
        }
      },
    );
    return out;
  }

  /** One page, within the read budget. */
  private async page<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    await this.beforeCall();
    return callAws('iam', operation, fn, this.opts);
  }
}

/** A role as GetAccountAuthorizationDetails gives it, with what ListRoles adds. */
function actualRole(d: RoleDetail, s: RoleSettings | undefined): ActualRole {
  return {
    name: d.RoleName ?? '',
    path: d.Path ?? '/',
    arn: d.Arn ?? '',
    description: s?.description ?? '',
    maxSessionDuration: s?.maxSessionDuration ?? 3600,
    permissionsBoundary: d.PermissionsBoundary?.PermissionsBoundaryArn,
    trustPolicy: d.AssumeRolePolicyDocument ?? '',
    tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    managedPolicyArns: (d.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort(),
    inlinePolicies: Object.fromEntries((d.RolePolicyList ?? []).map((p) => [p.PolicyName ?? '', p.PolicyDocument ?? ''])),
  };
}
