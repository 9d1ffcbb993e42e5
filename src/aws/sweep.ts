// Every role of the account in a few paged calls, for the drift check: GetAccountAuthorizationDetails
// (Filter=Role) returns each role with its trust, attached and inline policies, boundary and tags;
// ListRoles under the operator's path adds the description and session duration it leaves out.
// One sweep costs (roles in the account / 50) + (roles under the path / 500) calls, instead of
// two to four reads per object. The caller bounds them with its read budget. Roles are handed
// over as each page arrives, so a sweep holds one page of the account, not all of it.
import { GetAccountAuthorizationDetailsCommand, ListRolesCommand, type IAMClient, type RoleDetail } from '@aws-sdk/client-iam';
import type { ActualRole } from '../policy/diff.ts';
import { callAws, type CallOptions } from './call.ts';
import { flatString } from '../strings.ts';
import { forEachPage } from './pages.ts';

/**
 * Roles per page (IAM's default is 100, its maximum 1,000). The SDK parses a whole page at once,
 * and what a page holds stays in memory until it is judged: a page of 1,000 was the 280 MB spike of
 * an early N=10,000 run, one of 200 took RSS up 15 MB for a moment. A GetAccountAuthorizationDetails
 * page (each role with its trust, policies and tags) is 50 roles: at 10,000 objects the peak was
 * 108 MB with 50 and 113 MB with 100. A ListRoles page (under the operator's path: a name, a
 * description and a session duration each, about a tenth of a role's details) is 500: with
 * ListRoles pages of 100, reads at rest at N=1,000 came to 0.049 per object per period (the target
 * is 0.05) when a bench's window held three sweeps.
 */
export const SWEEP_PAGES = { details: 50, list: 500 } as const;

/** What ListRoles adds, by role name: held for the length of a sweep, one entry per role of ours. */
interface RoleSettings {
  descriptions: Map<string, string>;
  /** Only the roles whose session duration is not IAM's default, 3,600 s: most are. */
  maxSessionDurations: Map<string, number>;
}

const DEFAULT_MAX_SESSION_DURATION = 3600;

export class IamSweep {
  private readonly iam: IAMClient;
  private readonly opts: CallOptions;
  /** Called before each page: the drift sweep's read budget. */
  private readonly beforeCall: () => Promise<void>;
  private readonly pages: { details: number; list: number };

  constructor(
    iam: IAMClient,
    opts: CallOptions,
    beforeCall: () => Promise<void> = () => Promise.resolve(),
    pages: { details: number; list: number } = SWEEP_PAGES,
  ) {
    this.iam = iam;
    this.opts = opts;
    this.beforeCall = beforeCall;
    this.pages = pages;
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
          this.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: this.pages.details, Marker })),
        ),
      (page) => {
        for (const d of page.RoleDetailList ?? []) if (d.RoleName && wanted(d.RoleName)) onRole(actualRole(d, settings));
      },
    );
  }

  private async settings(pathPrefix: string): Promise<RoleSettings> {
    const out: RoleSettings = { descriptions: new Map(), maxSessionDurations: new Map() };
    await forEachPage(
      (Marker) =>
        this.page('ListRoles', () => this.iam.send(new ListRolesCommand({ PathPrefix: pathPrefix, MaxItems: this.pages.list, Marker }))),
      (page) => {
        for (const r of page.Roles ?? []) {
          if (!r.RoleName) continue;
          // Copies: kept through the sweep, a slice of the page would keep the whole page (strings.ts).
          const name = flatString(r.RoleName);
          out.descriptions.set(name, flatString(r.Description ?? ''));
          const duration = r.MaxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION;
          if (duration !== DEFAULT_MAX_SESSION_DURATION) out.maxSessionDurations.set(name, duration);
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
function actualRole(d: RoleDetail, s: RoleSettings): ActualRole {
  const name = d.RoleName ?? '';
  return {
    name,
    path: d.Path ?? '/',
    arn: d.Arn ?? '',
    description: s.descriptions.get(name) ?? '',
    maxSessionDuration: s.maxSessionDurations.get(name) ?? DEFAULT_MAX_SESSION_DURATION,
    permissionsBoundary: d.PermissionsBoundary?.PermissionsBoundaryArn,
    trustPolicy: d.AssumeRolePolicyDocument ?? '',
    tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    managedPolicyArns: (d.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort(),
    inlinePolicies: Object.fromEntries((d.RolePolicyList ?? []).map((p) => [p.PolicyName ?? '', p.PolicyDocument ?? ''])),
  };
}
