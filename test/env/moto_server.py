# moto's server with what moto 5.2.5 lacks of IAM, then moto_server with the arguments it was
# given. Started by test/env/cluster.ts with the venv's python3 (setup.sh's moto part).
# - AddClientIDToOpenIDConnectProvider and RemoveClientIDFromOpenIDConnectProvider. Its OIDC
#   provider model keeps client_id_list already; this registers the actions on the IAM backend and
#   its query-protocol responses, with IAM's documented behaviour (adding a listed ID or removing
#   an unlisted one does nothing; at most 100 IDs).
# - Paging of GetAccountAuthorizationDetails. moto ignores MaxItems and Marker and answers with
#   every role at once, iterating the live role table: at 10,000 roles the one response took
#   seconds to build, and a role created meanwhile broke it (an HTML error page). This answers
#   Filter=Role (what the operator asks for) a page of MaxItems (IAM's default 100, at most 1,000)
#   at a time from a copy of the table, in role-name order, with an opaque Marker as IAM gives.
import base64
import sys

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import LimitExceededException
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse
from moto.server import main

CLIENT_ID_LIMIT = 100


def add_client_id_to_open_id_connect_provider(self: IAMBackend, arn: str, client_id: str) -> None:
    provider = self.get_open_id_connect_provider(arn)
    if client_id in provider.client_id_list:
        return
    if len(provider.client_id_list) >= CLIENT_ID_LIMIT:
        raise LimitExceededException(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_ID_LIMIT}")
    provider.client_id_list.append(client_id)


def remove_client_id_from_open_id_connect_provider(self: IAMBackend, arn: str, client_id: str) -> None:
    provider = self.get_open_id_connect_provider(arn)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)


def add_client_id_response(self: IamResponse) -> EmptyResult:
    self.backend.add_client_id_to_open_id_connect_provider(
        self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
    )
    return EmptyResult()


def remove_client_id_response(self: IamResponse) -> EmptyResult:
    self.backend.remove_client_id_from_open_id_connect_provider(
        self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID")
    )
    return EmptyResult()


AUTHORIZATION_DETAILS_PAGE = 100
AUTHORIZATION_DETAILS_PAGE_MAX = 1000

original_get_account_authorization_details = IamResponse.get_account_authorization_details


def get_account_authorization_details_paged(self: IamResponse) -> ActionResult:
    if self._get_param("Filter", []) != ["Role"]:
        return original_get_account_authorization_details(self)
    max_items = min(self._get_int_param("MaxItems", AUTHORIZATION_DETAILS_PAGE), AUTHORIZATION_DETAILS_PAGE_MAX)
    marker = self._get_param("Marker")
    after = base64.urlsafe_b64decode(marker).decode() if marker else None
    roles = sorted((r for r in list(self.backend.roles.values()) if after is None or r.name > after), key=lambda r: r.name)
    page = roles[:max_items]
    truncated = len(roles) > max_items
    result = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": page,
        "Policies": [],
        "IsTruncated": truncated,
    }
    if truncated:
        result["Marker"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
    return ActionResult(result)


IamResponse.get_account_authorization_details = get_account_authorization_details_paged
IAMBackend.add_client_id_to_open_id_connect_provider = add_client_id_to_open_id_connect_provider
IAMBackend.remove_client_id_from_open_id_connect_provider = remove_client_id_from_open_id_connect_provider
IamResponse.add_client_id_to_open_id_connect_provider = add_client_id_response
IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id_response

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
