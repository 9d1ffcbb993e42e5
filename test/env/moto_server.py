# moto's server with the two IAM actions moto 5.2.5 lacks: AddClientIDToOpenIDConnectProvider and
# RemoveClientIDFromOpenIDConnectProvider. Its OIDC provider model keeps client_id_list already;
# this registers the actions on the IAM backend and its query-protocol responses, with IAM's
# documented behaviour (adding a listed ID or removing an unlisted one does nothing; at most 100
# IDs), then runs moto_server with the arguments it was given. Started by test/env/cluster.ts with
# the venv's python3 (setup.sh's moto part).
import sys

from moto.core.responses import EmptyResult
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


IAMBackend.add_client_id_to_open_id_connect_provider = add_client_id_to_open_id_connect_provider
IAMBackend.remove_client_id_from_open_id_connect_provider = remove_client_id_from_open_id_connect_provider
IamResponse.add_client_id_to_open_id_connect_provider = add_client_id_response
IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id_response

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
