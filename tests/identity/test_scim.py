"""SCIM 2.0 as Okta and Microsoft Entra ID use it: the request sequences their documentation
gives (look up by userName, create, read, update, PATCH active=false, groups), a bearer token per
provider, and errors in SCIM's own format."""

from __future__ import annotations

import json
import secrets

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from pips import roles
from pipsystem.identity.models import ScimClient, ScimUser

pytestmark = pytest.mark.django_db

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def make_client(name: str) -> str:
    token = secrets.token_urlsafe(32)
    ScimClient.objects.create(name=name, token_sha256=ScimClient.digest(token))
    return token


class Scim:
    def __init__(self, client, token: str) -> None:
        self.client, self.auth = client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, **params):
        return self.client.get(f"/scim/v2/{path}", params, **self.auth)

    def send(self, method: str, path: str, body: dict):
        call = getattr(self.client, method.lower())
        return call(f"/scim/v2/{path}", json.dumps(body), content_type=SCIM, **self.auth)


@pytest.fixture
def okta(client):
    return Scim(client, make_client("Okta"))


@pytest.fixture
def entra(client):
    return Scim(client, make_client("Entra ID"))


def test_okta_sequence(okta):
    # 1. Does the user exist?
    found = okta.get("Users", filter='userName eq "casey.kim@example.com"', startIndex=1, count=100)
    assert found.status_code == 200 and found["Content-Type"] == SCIM
    assert found.json()["totalResults"] == 0 and found.json()["Resources"] == []
    # 2. Create (Okta sends a password and groups; neither is taken).
    created = okta.send(
        "POST",
        "Users",
        {
            "schemas": [USER],
            "userName": "casey.kim@example.com",
            "name": {"givenName": "Casey", "familyName": "Kim"},
            "emails": [{"primary": True, "value": "casey.kim@example.com", "type": "work"}],
            "displayName": "Casey Kim",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    scim_id = body["id"]
    assert created["Location"].endswith(f"/scim/v2/Users/{scim_id}")
    assert body["userName"] == "casey.kim@example.com" and body["active"] is True
    user = User.objects.get(email="casey.kim@example.com")
    assert (user.first_name, user.last_name, user.is_active) == ("Casey", "Kim", True)
    assert not user.has_usable_password()
    # 3. Read it back, and find it by userName (case-insensitively, RFC 7643).
    assert okta.get(f"Users/{scim_id}").json()["name"]["familyName"] == "Kim"
    found = okta.get("Users", filter='userName eq "Casey.Kim@example.com"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == scim_id
    # 4. Profile update by PUT.
    put = okta.send(
        "PUT",
        f"Users/{scim_id}",
        {
            "schemas": [USER],
            "id": scim_id,
            "userName": "casey.kim@example.com",
            "name": {"givenName": "Casey", "familyName": "Kim-Lee"},
            "emails": [{"primary": True, "value": "casey.kimlee@example.com", "type": "work"}],
            "active": True,
        },
    )
    assert put.status_code == 200
    user.refresh_from_db()
    assert (user.last_name, user.email) == ("Kim-Lee", "casey.kimlee@example.com")
    # 5. Deactivate: PATCH without a path.
    patch = okta.send(
        "PATCH",
        f"Users/{scim_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert patch.status_code == 200 and patch.json()["active"] is False
    user.refresh_from_db()
    assert not user.is_active
    # Creating the same userName again is a conflict.
    again = okta.send("POST", "Users", {"schemas": [USER], "userName": "casey.kim@example.com"})
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"


def test_entra_id_sequence(entra):
    name = "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081"
    assert entra.get("Users", filter=f'userName eq "{name}"').json()["totalResults"] == 0
    created = entra.send(
        "POST",
        "Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": name,
            "active": True,
            "emails": [
                {"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}
            ],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
        },
    )
    assert created.status_code == 201, created.content
    scim_id = created.json()["id"]
    assert entra.get("Users", filter=f'userName eq "{name}"').json()["totalResults"] == 1
    by_external = entra.get("Users", filter='externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')
    assert by_external.json()["Resources"][0]["id"] == scim_id
    # Entra's PATCH: capitalised ops, a filtered e-mail path.
    patched = entra.send(
        "PATCH",
        f"Users/{scim_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "updatedEmail@microsoft.com",
                },
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
    )
    assert patched.status_code == 200, patched.content
    user = ScimUser.objects.get(scim_id=scim_id).user
    assert (user.email, user.last_name) == ("updatedEmail@microsoft.com", "updatedFamilyName")
    # Disable: Entra sends the boolean as a string.
    disabled = entra.send(
        "PATCH",
        f"Users/{scim_id}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    # DELETE deactivates; nothing is removed.
    assert entra.send("DELETE", f"Users/{scim_id}", {}).status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    assert entra.get(f"Users/{scim_id}").status_code == 200


def test_a_person_on_the_roster_is_linked_not_duplicated(entra, alex):
    created = entra.send(
        "POST",
        "Users",
        {
            "schemas": [USER, ENTERPRISE],
            "userName": "alex.rivera@corp.example",
            "emails": [{"primary": True, "type": "work", "value": "alex@example.com"}],
            ENTERPRISE: {"employeeNumber": "E1001"},
            "active": True,
        },
    )
    assert created.status_code == 201
    assert ScimUser.objects.get(scim_id=created.json()["id"]).user == alex.user
    assert User.objects.filter(username="alex.rivera@corp.example").count() == 0


def test_groups_give_roles_by_the_mapping(entra, settings):
    settings.IDENTITY_ROLE_GROUPS = {"PIP HR": "hr"}
    user_id = entra.send(
        "POST", "Users", {"schemas": [USER], "userName": "pat@example.com", "active": True}
    ).json()["id"]
    group = entra.send(
        "POST",
        "Groups",
        {"schemas": [GROUP], "externalId": "8aa1a0c0", "displayName": "PIP HR", "members": []},
    )
    assert group.status_code == 201
    group_id = group.json()["id"]
    found = entra.get("Groups", filter='displayName eq "PIP HR"', excludedAttributes="members")
    assert found.json()["totalResults"] == 1 and "members" not in found.json()["Resources"][0]
    added = entra.send(
        "PATCH",
        f"Groups/{group_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": user_id}]}
            ],
        },
    )
    assert added.status_code == 200
    pat = User.objects.get(username="pat@example.com")
    assert roles.is_hr(pat)
    # Okta's removal form: a filtered member path.
    removed = entra.send(
        "PATCH",
        f"Groups/{group_id}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{user_id}"]'}],
        },
    )
    assert removed.status_code == 200 and removed.json()["members"] == []
    assert not roles.is_hr(User.objects.get(pk=pat.pk))


def test_each_provider_sees_only_its_own(okta, entra):
    scim_id = okta.send("POST", "Users", {"schemas": [USER], "userName": "a@example.com"}).json()[
        "id"
    ]
    assert entra.get(f"Users/{scim_id}").status_code == 404
    assert entra.get("Users").json()["totalResults"] == 0


def test_tokens_are_checked(client, okta):
    assert client.get("/scim/v2/Users").status_code == 401
    wrong = client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert wrong.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    ScimClient.objects.update(is_active=False)
    assert okta.get("Users").status_code == 401


def test_bad_requests_get_scim_errors(okta):
    bad_json = okta.client.post("/scim/v2/Users", "{", content_type=SCIM, **okta.auth)
    assert bad_json.status_code == 400 and bad_json.json()["scimType"] == "invalidSyntax"
    assert (
        okta.send("POST", "Users", {"schemas": [USER]}).json()["detail"] == "userName is required."
    )
    assert okta.get("Users", filter='name.givenName co "x"').json()["scimType"] == "invalidFilter"
    scim_id = okta.send("POST", "Users", {"schemas": [USER], "userName": "b@example.com"}).json()[
        "id"
    ]
    unknown = okta.send(
        "PATCH",
        f"Users/{scim_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "nickName", "value": "x"}]},
    )
    assert unknown.status_code == 400 and unknown.json()["scimType"] == "invalidPath"
    not_bool = okta.send(
        "PATCH",
        f"Users/{scim_id}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]},
    )
    assert not_bool.status_code == 400
    assert User.objects.get(username="b@example.com").is_active
    assert okta.get("Users", startIndex="x").status_code == 400


def test_the_command_prints_a_token_once(capsys):
    call_command("scim_client", "Okta")
    token = capsys.readouterr().out.strip()
    client = ScimClient.objects.get(name="Okta")
    assert client.token_sha256 == ScimClient.digest(token) and token not in client.token_sha256
    call_command("scim_client", "Okta", "--rotate")
    assert ScimClient.objects.get(name="Okta").token_sha256 != client.token_sha256


def test_discovery(okta):
    config = okta.get("ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    assert {r["id"] for r in okta.get("ResourceTypes").json()["Resources"]} == {"User", "Group"}
