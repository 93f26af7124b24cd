"""SCIM 2.0 (RFC 7643 / RFC 7644) for identity providers to create, update and deactivate
accounts and push groups: `/scim/v2/Users`, `/scim/v2/Groups` and the discovery endpoints.

Each provider has its own bearer token (`ScimClient`, made by `manage.py scim_client`). What
Okta and Microsoft Entra ID send is understood, including Entra's capitalised operations
("Replace") and string booleans ("False"), and Okta's PATCH without a path
(`{"op": "replace", "value": {"active": false}}`). Filters: `userName eq`, `externalId eq`
(Users) and `displayName eq`, `externalId eq` (Groups). A user is never removed: DELETE
deactivates. A provider sees only the accounts and groups it provisioned.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from pipsystem.identity import directory, invitations
from pipsystem.identity.models import ScimClient, ScimGroup, ScimUser

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CONTENT_TYPE = "application/scim+json"
MAX_COUNT = 200
MAX_BODY = 1024 * 1024

_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_MEMBER_PATH = re.compile(r'^members\[value eq "([^"]+)"\]$', re.IGNORECASE)
_EMAIL_PATH = re.compile(r'^emails\[type eq "(\w+)"\]\.value$', re.IGNORECASE)


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _response(data: Any, status: int = 200) -> HttpResponse:
    response = JsonResponse(data, status=status, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def _error(exc: ScimError) -> HttpResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(exc.status), "detail": exc.detail}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    return _response(body, exc.status)


def _client(request: HttpRequest) -> ScimClient:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ScimError(401, "A bearer token is required.")
    client = ScimClient.objects.filter(
        token_sha256=ScimClient.digest(token.strip()), is_active=True
    ).first()
    if client is None:
        raise ScimError(401, "The bearer token is not valid.")
    ScimClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise ScimError(413, "The request body is too large.")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ScimError(400, "The body is not valid JSON.", "invalidSyntax") from None
    if not isinstance(data, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    return data


def endpoint(methods: tuple[str, ...]):
    """Bearer authentication, allowed methods and SCIM errors for a view."""

    def wrap(view):
        @csrf_exempt
        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ScimError(405, f"{request.method} is not supported here.")
                client = _client(request)
                return view(request, client, *args, **kwargs)
            except ScimError as exc:
                return _error(exc)

        inner.__name__ = view.__name__
        inner.__doc__ = view.__doc__
        return inner

    return wrap


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # Entra ID sends "False"
    raise ScimError(400, f"{field} must be true or false.", "invalidValue")


def _str(value: Any, field: str, limit: int = 150) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{field} must be a string.", "invalidValue")
    value = value.strip()
    if len(value) > limit:
        raise ScimError(400, f"{field} is longer than {limit} characters.", "invalidValue")
    return value


def _list_params(request: HttpRequest) -> tuple[int, int]:
    try:
        start = max(int(request.GET.get("startIndex", 1)), 1)
        count = min(max(int(request.GET.get("count", 100)), 0), MAX_COUNT)
    except ValueError:
        raise ScimError(400, "startIndex and count must be integers.", "invalidValue") from None
    return start, count


def _filter(request: HttpRequest, allowed: dict[str, str]) -> tuple[str, str] | None:
    raw = request.GET.get("filter")
    if not raw:
        return None
    match = _FILTER.match(raw)
    if not match or match.group(1).lower() not in allowed:
        raise ScimError(
            400,
            f"Only these filters are supported: {', '.join(f'{a} eq' for a in allowed.values())}.",
            "invalidFilter",
        )
    return allowed[match.group(1).lower()], match.group(2).replace('\\"', '"')


def _list(request: HttpRequest, items: list[dict], total: int, start: int) -> HttpResponse:
    return _response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(items),
            "Resources": items,
        }
    )


def _location(request: HttpRequest, name: str, scim_id: uuid.UUID) -> str:
    return request.build_absolute_uri(reverse(name, args=[scim_id]))


# --- Users ------------------------------------------------------------------------------------


def _user_resource(request: HttpRequest, link: ScimUser) -> dict[str, Any]:
    user = link.user
    emails = [{"value": user.email, "type": "work", "primary": True}] if user.email else []
    return {
        "schemas": [USER_SCHEMA],
        "id": str(link.scim_id),
        "externalId": link.external_id or None,
        "userName": link.user_name,
        "name": {
            "givenName": user.first_name,
            "familyName": user.last_name,
            "formatted": user.get_full_name(),
        },
        "displayName": user.get_full_name() or link.user_name,
        "emails": emails,
        "active": user.is_active,
        "meta": {
            "resourceType": "User",
            "created": link.created_at.isoformat(),
            "lastModified": link.updated_at.isoformat(),
            "location": _location(request, "identity:scim_user", link.scim_id),
        },
    }


def _primary_email(data: dict[str, Any]) -> str | None:
    emails = data.get("emails")
    if emails is None:
        return None
    if not isinstance(emails, list):
        raise ScimError(400, "emails must be a list.", "invalidValue")
    chosen = None
    for item in emails:
        if not isinstance(item, dict):
            raise ScimError(400, "each of emails must be an object.", "invalidValue")
        if chosen is None or item.get("primary") in (True, "true", "True"):
            chosen = item
    return _str(chosen.get("value"), "emails.value", 254) if chosen else ""


def _apply_user(user, data: dict[str, Any], *, replace: bool) -> None:
    """Set the account's fields from a SCIM User (a POST or PUT body, or PATCH values)."""
    name = data.get("name")
    if name is not None:
        if not isinstance(name, dict):
            raise ScimError(400, "name must be an object.", "invalidValue")
        if "givenName" in name or replace:
            user.first_name = _str(name.get("givenName"), "name.givenName")
        if "familyName" in name or replace:
            user.last_name = _str(name.get("familyName"), "name.familyName")
    email = _primary_email(data)
    if email is not None:
        user.email = email
    if "active" in data:
        user.is_active = _bool(data["active"], "active")


def _get_link(client: ScimClient, scim_id: uuid.UUID) -> ScimUser:
    link = ScimUser.objects.select_related("user").filter(client=client, scim_id=scim_id).first()
    if link is None:
        raise ScimError(404, "No such user.")
    return link


@endpoint(("GET", "POST"))
def users(request: HttpRequest, client: ScimClient) -> HttpResponse:
    if request.method == "POST":
        return _create_user(request, client, _body(request))
    start, count = _list_params(request)
    links = (
        ScimUser.objects.filter(client=client).select_related("user").order_by("created_at", "pk")
    )
    found = _filter(request, {"username": "userName", "externalid": "externalId"})
    if found:
        attribute, value = found
        if attribute == "userName":
            links = links.annotate(name_lower=Lower("user_name")).filter(name_lower=value.lower())
        else:
            links = links.filter(external_id=value)
    total = links.count()
    page = list(links[start - 1 : start - 1 + count])
    return _list(request, [_user_resource(request, link) for link in page], total, start)


def _create_user(request: HttpRequest, client: ScimClient, data: dict[str, Any]) -> HttpResponse:
    user_name = _str(data.get("userName"), "userName", 255)
    if not user_name:
        raise ScimError(400, "userName is required.", "invalidValue")
    if ScimUser.objects.filter(client=client, user_name__iexact=user_name).exists():
        raise ScimError(409, f"A user with userName {user_name} exists.", "uniqueness")
    enterprise = data.get(ENTERPRISE) or {}
    employee_id = (
        _str(enterprise.get("employeeNumber"), "employeeNumber", 32)
        if isinstance(enterprise, dict)
        else ""
    )
    email = _primary_email(data) or ""
    User = get_user_model()
    with transaction.atomic():
        # The person may be on the roster already: link their account rather than make another.
        user = directory.user_for_employee(employee_id) or directory.find_user_by_email(email)
        if user is not None and ScimUser.objects.filter(client=client, user=user).exists():
            raise ScimError(409, "This person is provisioned already.", "uniqueness")
        if user is None:
            if User.objects.filter(username__iexact=user_name[:150]).exists():
                raise ScimError(409, f"An account named {user_name} exists.", "uniqueness")
            user = User(username=user_name[:150])
            user.set_unusable_password()
        _apply_user(user, data, replace=False)
        user.save()
        try:
            with transaction.atomic():
                link = ScimUser.objects.create(
                    client=client,
                    user=user,
                    scim_id=uuid.uuid4(),
                    user_name=user_name,
                    external_id=_str(data.get("externalId"), "externalId", 255),
                )
        except IntegrityError:
            raise ScimError(
                409, f"A user with userName {user_name} exists.", "uniqueness"
            ) from None
        if not user.is_active:
            invitations.revoke_for([user])
    response = _response(_user_resource(request, link), 201)
    response["Location"] = _location(request, "identity:scim_user", link.scim_id)
    return response


@endpoint(("GET", "PUT", "PATCH", "DELETE"))
def user(request: HttpRequest, client: ScimClient, scim_id: uuid.UUID) -> HttpResponse:
    if request.method == "GET":
        return _response(_user_resource(request, _get_link(client, scim_id)))
    with transaction.atomic():
        link = _get_link(client, scim_id)
        account = get_user_model().objects.select_for_update().get(pk=link.user_id)
        link.user = account
        if request.method == "DELETE":
            account.is_active = False
        elif request.method == "PUT":
            data = _body(request)
            _apply_user(account, data, replace=True)
            user_name = _str(data.get("userName"), "userName", 255)
            if user_name:
                link.user_name = user_name
            if "externalId" in data:
                link.external_id = _str(data.get("externalId"), "externalId", 255)
        else:
            _patch_user(link, account, _body(request))
        account.save(update_fields=["first_name", "last_name", "email", "is_active"])
        link.updated_at = timezone.now()
        try:
            with transaction.atomic():
                link.save(update_fields=["user_name", "external_id", "updated_at"])
        except IntegrityError:
            raise ScimError(409, "Another user has this userName.", "uniqueness") from None
        if not account.is_active:
            invitations.revoke_for([account])
    if request.method == "DELETE":
        return HttpResponse(status=204)
    return _response(_user_resource(request, link))


def _operations(data: dict[str, Any]) -> list[dict[str, Any]]:
    operations = data.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list.", "invalidSyntax")
    for op in operations:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in (
            "add",
            "replace",
            "remove",
        ):
            raise ScimError(
                400, "Each operation's op must be add, replace or remove.", "invalidSyntax"
            )
    return operations


def _patch_user(link: ScimUser, account, data: dict[str, Any]) -> None:
    for op in _operations(data):
        kind = op["op"].lower()
        path = op.get("path") or ""
        value = op.get("value")
        if not path:
            if not isinstance(value, dict):
                raise ScimError(
                    400, "A PATCH without a path needs an object value.", "invalidValue"
                )
            # Okta: {"op": "replace", "value": {"active": false}}; dotted keys from Entra.
            for key, item in value.items():
                _patch_user_path(link, account, "replace" if kind == "add" else kind, key, item)
        else:
            _patch_user_path(link, account, kind, path, value)


def _patch_user_path(link: ScimUser, account, kind: str, path: str, value: Any) -> None:
    lowered = path.lower()
    if kind == "remove" and lowered not in ("externalid", "name.givenname", "name.familyname"):
        raise ScimError(400, f"{path} cannot be removed.", "mutability")
    if lowered == "active":
        account.is_active = _bool(value, "active")
    elif lowered == "username":
        link.user_name = _str(value, "userName", 255) or link.user_name
    elif lowered == "externalid":
        link.external_id = "" if kind == "remove" else _str(value, "externalId", 255)
    elif lowered in ("name.givenname", "name.familyname"):
        field = "first_name" if lowered == "name.givenname" else "last_name"
        setattr(account, field, "" if kind == "remove" else _str(value, path))
    elif lowered == "name":
        _apply_user(account, {"name": value}, replace=False)
    elif lowered == "emails":
        _apply_user(account, {"emails": value}, replace=False)
    elif _EMAIL_PATH.match(path):
        account.email = _str(value, path, 254)
    elif lowered in ("displayname", "title", "preferredlanguage", "locale") or lowered.startswith(
        ENTERPRISE.lower()
    ):
        pass  # accepted and not stored: the roster is the source of these
    else:
        raise ScimError(400, f"{path} is not an attribute that can be changed.", "invalidPath")


# --- Groups -----------------------------------------------------------------------------------


def _group_resource(request: HttpRequest, group: ScimGroup, members: bool = True) -> dict:
    body: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.scim_id),
        "externalId": group.external_id or None,
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.isoformat(),
            "lastModified": group.updated_at.isoformat(),
            "location": _location(request, "identity:scim_group", group.scim_id),
        },
    }
    if members:
        links = ScimUser.objects.filter(client=group.client, user__in=group.members.all())
        body["members"] = [
            {"value": str(link.scim_id), "display": link.user_name} for link in links
        ]
    return body


def _member_users(client: ScimClient, value: Any) -> list:
    if not isinstance(value, list):
        value = [value]
    ids = []
    for item in value:
        raw = item.get("value") if isinstance(item, dict) else item
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            raise ScimError(400, f"{raw!r} is not a user id.", "invalidValue") from None
    links = list(ScimUser.objects.filter(client=client, scim_id__in=ids).select_related("user"))
    if len(links) != len(set(ids)):
        raise ScimError(400, "A member is not a user of this provider.", "invalidValue")
    return [link.user for link in links]


def _sync_roles(client: ScimClient, users: list) -> None:
    """Members of a group that IDENTITY_ROLE_GROUPS maps get its role; leaving takes it away."""
    if not settings.IDENTITY_ROLE_GROUPS:
        return
    for account in users:
        names = ScimGroup.objects.filter(client=client, members=account).values_list(
            "display_name", flat=True
        )
        directory.set_group_roles(account, directory.roles_from_groups(names))


def _get_group(client: ScimClient, scim_id: uuid.UUID, lock: bool = False) -> ScimGroup:
    groups = ScimGroup.objects.filter(client=client, scim_id=scim_id)
    group = (groups.select_for_update() if lock else groups).first()
    if group is None:
        raise ScimError(404, "No such group.")
    return group


@endpoint(("GET", "POST"))
def groups(request: HttpRequest, client: ScimClient) -> HttpResponse:
    if request.method == "POST":
        data = _body(request)
        name = _str(data.get("displayName"), "displayName", 255)
        if not name:
            raise ScimError(400, "displayName is required.", "invalidValue")
        with transaction.atomic():
            if ScimGroup.objects.filter(client=client, display_name=name).exists():
                raise ScimError(409, f"A group named {name} exists.", "uniqueness")
            group = ScimGroup.objects.create(
                client=client,
                scim_id=uuid.uuid4(),
                display_name=name,
                external_id=_str(data.get("externalId"), "externalId", 255),
            )
            members = _member_users(client, data.get("members") or [])
            group.members.add(*members)
            _sync_roles(client, members)
        response = _response(_group_resource(request, group), 201)
        response["Location"] = _location(request, "identity:scim_group", group.scim_id)
        return response
    start, count = _list_params(request)
    found = _filter(request, {"displayname": "displayName", "externalid": "externalId"})
    queryset = ScimGroup.objects.filter(client=client).select_related("client").order_by("pk")
    if found:
        attribute, value = found
        if attribute == "displayName":
            queryset = queryset.filter(display_name=value)
        else:
            queryset = queryset.filter(external_id=value)
    with_members = "members" not in request.GET.get("excludedAttributes", "")
    total = queryset.count()
    page = list(queryset[start - 1 : start - 1 + count])
    return _list(request, [_group_resource(request, g, with_members) for g in page], total, start)


@endpoint(("GET", "PUT", "PATCH", "DELETE"))
def group(request: HttpRequest, client: ScimClient, scim_id: uuid.UUID) -> HttpResponse:
    if request.method == "GET":
        with_members = "members" not in request.GET.get("excludedAttributes", "")
        return _response(_group_resource(request, _get_group(client, scim_id), with_members))
    with transaction.atomic():
        group = _get_group(client, scim_id, lock=True)
        before = set(group.members.all())
        if request.method == "DELETE":
            group.members.clear()
            group.delete()
            _sync_roles(client, list(before))
            return HttpResponse(status=204)
        data = _body(request)
        if request.method == "PUT":
            name = _str(data.get("displayName"), "displayName", 255)
            if name:
                group.display_name = name
            group.members.set(_member_users(client, data.get("members") or []))
        else:
            for op in _operations(data):
                _patch_group(client, group, op)
        group.updated_at = timezone.now()
        try:
            with transaction.atomic():
                group.save(update_fields=["display_name", "updated_at"])
        except IntegrityError:
            raise ScimError(409, "Another group has this displayName.", "uniqueness") from None
        after = set(group.members.all())
        _sync_roles(client, list(before | after))
    return _response(_group_resource(request, group))


def _patch_group(client: ScimClient, group: ScimGroup, op: dict[str, Any]) -> None:
    kind, path, value = op["op"].lower(), op.get("path") or "", op.get("value")
    member = _MEMBER_PATH.match(path)
    if member and kind == "remove":
        group.members.remove(*_member_users(client, [member.group(1)]))
    elif path.lower() == "members":
        if kind == "add":
            group.members.add(*_member_users(client, value or []))
        elif kind == "remove":
            if value is None:
                group.members.clear()
            else:
                group.members.remove(*_member_users(client, value))
        else:
            group.members.set(_member_users(client, value or []))
    elif path.lower() == "displayname" or (not path and isinstance(value, dict)):
        name = value if path else value.get("displayName")
        if name:
            group.display_name = _str(name, "displayName", 255)
        if not path and "members" in value:
            group.members.set(_member_users(client, value["members"] or []))
    elif path.lower() == "externalid":
        group.external_id = _str(value, "externalId", 255)
    else:
        raise ScimError(400, f"{path or 'value'} cannot be changed on a group.", "invalidPath")


# --- Discovery --------------------------------------------------------------------------------


@endpoint(("GET",))
def service_provider_config(request: HttpRequest, client: ScimClient) -> HttpResponse:
    return _response(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "A token per identity provider, made by manage.py scim_client.",
                }
            ],
        }
    )


@endpoint(("GET",))
def resource_types(request: HttpRequest, client: ScimClient) -> HttpResponse:
    types = [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
        },
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "schema": GROUP_SCHEMA,
        },
    ]
    return _list(request, types, len(types), 1)


@endpoint(("GET",))
def schemas(request: HttpRequest, client: ScimClient) -> HttpResponse:
    items = [
        {"id": USER_SCHEMA, "name": "User", "attributes": []},
        {"id": GROUP_SCHEMA, "name": "Group", "attributes": []},
        {"id": ENTERPRISE, "name": "EnterpriseUser", "attributes": []},
    ]
    return _list(request, items, len(items), 1)
