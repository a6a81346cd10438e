"""How the sweeps call each route: a valid body, and (for routes with ids) a resource of
the victim tenant. Every route in the OpenAPI document must have an entry here, so a new
router joins both sweeps the moment it is mounted, or the sweeps fail and say so."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.tenancy import bind_tenant
from personae.identity import external
from personae.sessions.models import Run, Session


@dataclass
class Actor:
    """A signed-in owner of one tenant, with a client."""

    client: httpx.AsyncClient
    email: str
    password: str
    sessions: async_sessionmaker[AsyncSession]
    """Database sessions as the app role, for what no route does (the operator's part)."""
    headers: dict[str, str] = field(default_factory=dict)

    async def sign_in(self) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/auth/login", json={"email": self.email, "password": self.password}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        return tokens


Body = Callable[[Actor], Awaitable[dict[str, Any] | None]]
Ids = Callable[[Actor], Awaitable[dict[str, str]]]


async def no_body(actor: Actor) -> None:
    return None


@dataclass(frozen=True)
class Case:
    body: Body = no_body
    ids: Ids | None = None
    """Creates a resource as `actor` and returns the path parameters that name it."""
    signed_in: bool = True
    """False for routes that take credentials in the body (sign-in, refresh)."""
    fresh_session: bool = False
    """The call ends the caller's session: give it one of its own."""
    content: bytes | None = None
    """A raw request body (file uploads), sent instead of `body`'s JSON."""
    query: dict[str, str] | None = None
    reads_only: bool = False
    """A POST that changes nothing (search): it leaves no audit event."""
    audit_events: int = 1
    """Audit events one call leaves (a tool's execution: one as it starts, one as it ends)."""
    status: int | None = None
    """The answer expected instead of a success: a route that needs a model answers 503,
    since the sweeps run none (its mutations are still checked)."""
    catalogue_key: bool = False
    """The path names a catalogue entry (the same in every tenant), not a tenant's row:
    another tenant acts on its own copy, so the sweep checks only that A is untouched."""


async def _login_body(actor: Actor) -> dict[str, Any]:
    return {"email": actor.email, "password": actor.password}


async def _refresh_body(actor: Actor) -> dict[str, Any]:
    return {"refresh_token": (await actor.sign_in())["refresh_token"]}


async def _password_change_body(actor: Actor) -> dict[str, Any]:
    """Changes the actor's password (to the same with one more character, 1 to 9)."""
    current = actor.password
    actor.password = current + str(len(current) % 9 + 1)
    return {"current_password": current, "new_password": actor.password}


async def _token_body(actor: Actor) -> dict[str, Any]:
    return {"name": "sweep", "scopes": ["audit:read"]}


async def _secret_body(actor: Actor) -> dict[str, Any]:
    return {"key_name": "sweep_key", "value": "sweep-value"}


async def _a_secret(actor: Actor) -> dict[str, str]:
    response = await actor.client.put(
        "/v1/secrets", headers=actor.headers, json=await _secret_body(actor)
    )
    assert response.status_code == 200, response.text
    return {"secret_id": response.json()["id"]}


async def _role_body(actor: Actor) -> dict[str, Any]:
    return {"name": f"sweep-{uuid.uuid4().hex[:8]}", "permissions": ["audit:read"]}


async def _invitation_body(actor: Actor) -> dict[str, Any]:
    return {"email": f"{uuid.uuid4().hex[:8]}@sweep.example.com", "role": "viewer"}


async def _accept_body(actor: Actor) -> dict[str, Any]:
    response = await actor.client.post(
        "/v1/invitations", headers=actor.headers, json=await _invitation_body(actor)
    )
    assert response.status_code == 201, response.text
    return {"token": response.json()["token"], "password": "a long enough password"}


async def _roles_body(actor: Actor) -> dict[str, Any]:
    return {"roles": ["viewer"]}


async def _a_member(actor: Actor) -> dict[str, str]:
    body = await _accept_body(actor)
    response = await actor.client.post("/v1/invitations/accept", json=body)
    assert response.status_code == 200, response.text
    return {"user_id": response.json()["user_id"]}


async def _flag_body(actor: Actor) -> dict[str, Any]:
    return {"enabled": True}


async def _a_flag_override(actor: Actor) -> dict[str, str]:
    response = await actor.client.put(
        "/v1/flags/search_logging", headers=actor.headers, json={"enabled": False}
    )
    assert response.status_code == 200, response.text
    return {"flag_key": "search_logging"}


async def _profile_body(actor: Actor) -> dict[str, Any]:
    return {"profile": "enhanced"}


async def _model_config_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"mc-{uuid.uuid4().hex[:8]}",
        "provider": "openai",
        "model_name": "gpt-x",
        "api_key": "sk-sweep",
    }


async def _model_patch_body(actor: Actor) -> dict[str, Any]:
    return {"rpm": 60}


async def _setting_body(actor: Actor) -> dict[str, Any]:
    return {"value": "sweep-value"}


async def _a_setting(actor: Actor) -> dict[str, str]:
    response = await actor.client.put(
        "/v1/settings/tenant/sweep_setting", headers=actor.headers, json=await _setting_body(actor)
    )
    assert response.status_code == 200, response.text
    return {"scope": "tenant", "key": "sweep_setting"}


def created(path: str, body: Body, id_param: str, under: Ids | None = None) -> Ids:
    """Ids of a resource made by POSTing `body` to `path` (formatted with `under`'s ids)."""

    async def make(actor: Actor) -> dict[str, str]:
        ids = await under(actor) if under else {}
        response = await actor.client.post(
            path.format(**ids), headers=actor.headers, json=await body(actor)
        )
        assert response.status_code == 201, response.text
        return {**ids, id_param: response.json()["id"]}

    return make


_a_token = created("/v1/tokens", _token_body, "token_id")
_a_model_config = created("/v1/model-configs", _model_config_body, "config_id")


async def _team_body(actor: Actor) -> dict[str, Any]:
    return {"name": f"team-{uuid.uuid4().hex[:8]}"}


async def _team_member_body(actor: Actor) -> dict[str, Any]:
    return {"user_id": (await _a_member(actor))["user_id"], "role": "lead"}


async def _lead_body(actor: Actor) -> dict[str, Any]:
    return {"role": "member"}


_a_team = created("/v1/teams", _team_body, "team_id")
_a_team_member = created("/v1/teams/{team_id}/members", _team_member_body, "member_id", _a_team)


async def _persona_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"Sweep persona {uuid.uuid4().hex[:8]}",
        "system_prompt": "Be brief.",
        "metadata": {"k": "v"},
    }


async def _share_body(actor: Actor) -> dict[str, Any]:
    return {"user_id": (await _a_member(actor))["user_id"], "role": "viewer"}


async def _editor_body(actor: Actor) -> dict[str, Any]:
    return {"role": "editor"}


_a_persona = created("/v1/personas", _persona_body, "persona_id")
_a_share = created("/v1/personas/{persona_id}/members", _share_body, "member_id", _a_persona)


async def _an_identity(actor: Actor) -> dict[str, str]:
    """Linked as the operator would (there is no route for it), straight in the database."""
    async with actor.sessions() as session, session.begin():
        identity = await external.link(session, actor.email, "sweep", uuid.uuid4().hex)
    return {"identity_id": str(identity.id)}


async def _session_body(actor: Actor) -> dict[str, Any]:
    return {"title": "Sweep", "variables": {"k": "v"}}


async def _channel_body(actor: Actor) -> dict[str, Any]:
    return {"channel": "sweep", "user_channel_id": uuid.uuid4().hex}


async def _session_patch_body(actor: Actor) -> dict[str, Any]:
    return {"status": "IDLE"}


async def _events_body(actor: Actor) -> dict[str, Any]:
    return {"events": [{"event_type": "message.user", "payload": {"content": "sweep"}}]}


_a_session = created("/v1/sessions", _session_body, "session_id")


async def _telemetry_session_body(actor: Actor) -> dict[str, Any]:
    return {"session_id": "sweep", "metadata": {"k": "v"}}


async def _telemetry_event_body(actor: Actor) -> dict[str, Any]:
    return {"event_type": "sweep", "event_data": {"n": 1}}


_a_telemetry_session = created(
    "/v1/telemetry/sessions", _telemetry_session_body, "telemetry_session_id"
)


async def _a_telemetry_parent(actor: Actor) -> dict[str, str]:
    return {"session_id": (await _a_telemetry_session(actor))["telemetry_session_id"]}


_a_telemetry_event = created(
    "/v1/telemetry/sessions/{session_id}/events",
    _telemetry_event_body,
    "event_id",
    under=_a_telemetry_parent,
)


async def _an_attachment(actor: Actor) -> dict[str, str]:
    ids = await _a_session(actor)
    response = await actor.client.post(
        f"/v1/sessions/{ids['session_id']}/attachments",
        headers=actor.headers,
        params={"filename": "sweep.txt"},
        content=b"sweep",
    )
    assert response.status_code == 201, response.text
    return {**ids, "attachment_id": response.json()["id"]}


async def _a_document(actor: Actor) -> dict[str, str]:
    response = await actor.client.post(
        "/v1/documents",
        headers=actor.headers,
        params={"filename": "sweep.md"},
        content=b"# Sweep\n\nA document of the sweep.",
    )
    assert response.status_code == 202, response.text
    return {"document_id": response.json()["id"]}


async def _unique_name(actor: Actor) -> dict[str, Any]:
    return {"name": f"sweep-{uuid.uuid4().hex[:8]}"}


async def _document_patch_body(actor: Actor) -> dict[str, Any]:
    return {"name": "renamed.md", "metadata": {"k": "v"}}


async def _category_ids_body(actor: Actor) -> dict[str, Any]:
    return {"category_ids": [(await _a_category(actor))["category_id"]]}


async def _tags_body(actor: Actor) -> dict[str, Any]:
    return {"tags": ["sweep", "second"]}


async def _teams_body(actor: Actor) -> dict[str, Any]:
    return {"teams": [{"team_id": (await _a_team(actor))["team_id"], "permission": "write"}]}


async def _item_body(actor: Actor) -> dict[str, Any]:
    return {"document_id": (await _a_document(actor))["document_id"]}


async def _search_body(actor: Actor) -> dict[str, Any]:
    return {"query": "sweep document", "mode": "hybrid", "k": 5, "tags": ["sweep"]}


_a_category = created("/v1/document-categories", _unique_name, "category_id")
_a_tag = created("/v1/document-tags", _unique_name, "tag_id")
_a_collection = created("/v1/collections", _unique_name, "collection_id")
_an_item = created("/v1/collections/{collection_id}/items", _item_body, "item_id", _a_collection)


async def _switch_body(actor: Actor) -> dict[str, Any]:
    return {"to": "hashing"}


async def _entity_body(actor: Actor) -> dict[str, Any]:
    return {**await _unique_name(actor), "entity_type": "person", "aliases": ["Sweepy"]}


_an_entity_type = created("/v1/entity-types", _unique_name, "entity_type_id")
_an_entity = created("/v1/entities", _entity_body, "entity_id")


async def _episode_body(actor: Actor) -> dict[str, Any]:
    return {"content": "The sweep remembers this.", "episode_type": "NOTE", "importance": 0.7}


_an_episode = created("/v1/memory/episodes", _episode_body, "episode_id")


async def _episodes_body(actor: Actor) -> dict[str, Any]:
    return {"episodes": [await _episode_body(actor), {"content": "And this, later."}]}


async def _customer_body(actor: Actor) -> dict[str, Any]:
    return {"external_id": f"crm-{uuid.uuid4().hex[:12]}", "display_name": "Sweep Customer"}


_a_customer = created("/v1/customer-profiles", _customer_body, "profile_id")


async def _tool_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"sweep-{uuid.uuid4().hex[:10]}",
        "description": "A tool the sweep registers.",
        "code_type": "http",
        "endpoint": "https://tools.example.com/sweep",
        "schema": {"type": "object", "properties": {"q": {"type": "string"}}},
    }


async def _tool_patch(actor: Actor) -> dict[str, Any]:
    return {"description": "A tool the sweep changed."}


async def _calculation(actor: Actor) -> dict[str, Any]:
    return {"arguments": {"expression": "6 * 7"}}


async def _calculator(actor: Actor) -> dict[str, str]:
    return {"name": "calculator"}


_a_tool = created("/v1/tools", _tool_body, "tool_id")


async def _dependencies_body(actor: Actor) -> dict[str, Any]:
    needed = await _a_tool(actor)
    return {"dependencies": [{"tool_id": needed["tool_id"], "kind": "requires"}]}


async def _agent_body(actor: Actor) -> dict[str, Any]:
    persona = await _a_persona(actor)
    return {"name": f"agent-{uuid.uuid4().hex[:8]}", "persona_id": persona["persona_id"]}


async def _grant_body(actor: Actor) -> dict[str, Any]:
    return {"tool_id": (await _a_tool(actor))["tool_id"], "config": {"timeout_s": 5}}


async def _activation_body(actor: Actor) -> dict[str, Any]:
    return {"tool_id": "calculator", "policy_overrides": {"requires_approval": True}}


async def _tool_search_body(actor: Actor) -> dict[str, Any]:
    return {"task": "work out a sum", "k": 3}


async def _executed(actor: Actor, name: str, body: dict[str, Any]) -> dict[str, str]:
    response = await actor.client.post(
        f"/v1/tools/{name}/execute", headers=actor.headers, json=body
    )
    assert response.is_success, response.text
    return {"execution_id": response.json()["id"]}


async def _an_execution(actor: Actor) -> dict[str, str]:
    return await _executed(actor, "calculator", await _calculation(actor))


async def _a_waiting_execution(actor: Actor) -> dict[str, str]:
    """A call of a tool that requires approval (an http tool whose host is not allowed:
    approved, it fails at once)."""
    tool = {**await _tool_body(actor), "requires_approval": True}
    made = await actor.client.post("/v1/tools", headers=actor.headers, json=tool)
    assert made.status_code == 201, made.text
    return await _executed(actor, tool["name"], {"arguments": {"q": "sweep"}})


async def _a_dead_letter(actor: Actor) -> dict[str, str]:
    """A python tool that raises, tried once: its call goes to the dead letters."""
    tool = {
        **await _tool_body(actor),
        "code_type": "python",
        "code": "def main(q=''):\n    raise ConnectionError('down')\n",  # may pass: kept
        "settings": {"max_attempts": 1},
    }
    made = await actor.client.post("/v1/tools", headers=actor.headers, json=tool)
    assert made.status_code == 201, made.text
    execution = await _executed(actor, tool["name"], {"arguments": {}})
    letters = await actor.client.get("/v1/dead-letters", headers=actor.headers)
    [letter] = [
        item
        for item in letters.json()["items"]
        if item["execution_id"] == execution["execution_id"]
    ]
    return {"letter_id": letter["id"]}


async def _agent_patch(actor: Actor) -> dict[str, Any]:
    return {"description": "Changed by the sweep."}


async def _grant_patch(actor: Actor) -> dict[str, Any]:
    return {"is_enabled": False}


async def _activation_patch(actor: Actor) -> dict[str, Any]:
    return {"enabled": False}


_an_agent = created("/v1/agents", _agent_body, "agent_id")


async def _rule_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"rule-{uuid.uuid4().hex[:8]}",
        "condition_text": "the customer asks to close their account",
        "examples": ["please close my account"],
        "action_config": {"instructions": "Ask why, then explain how."},
    }


async def _rule_patch(actor: Actor) -> dict[str, Any]:
    return {"priority": 5, "examples": ["I want to leave"]}


async def _rules_import_body(actor: Actor) -> dict[str, Any]:
    return {"rules": [await _rule_body(actor)]}


_a_rule = created("/v1/agents/{agent_id}/rules", _rule_body, "rule_id", _an_agent)


async def _scenario_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"scenario-{uuid.uuid4().hex[:8]}",
        "entry_condition": "the customer wants to close their account",
        "steps": [
            {"name": "ask", "transitions": [{"to": "done", "condition": "they give a reason"}]},
            {"name": "done", "terminal": True},
        ],
    }


async def _scenario_patch(actor: Actor) -> dict[str, Any]:
    return {"entry_condition": "the customer is leaving the bank"}


async def _scenarios_import_body(actor: Actor) -> dict[str, Any]:
    return {"scenarios": [await _scenario_body(actor)]}


_a_scenario = created("/v1/agents/{agent_id}/scenarios", _scenario_body, "scenario_id", _an_agent)


async def _a_scenario_version(actor: Actor) -> dict[str, str]:
    return {**await _a_scenario(actor), "version": "1"}


async def _a_changed_scenario(actor: Actor) -> dict[str, str]:
    """A scenario at version 2: a plan can go from 1 to 2."""
    ids = await _a_scenario(actor)
    response = await actor.client.patch(
        "/v1/agents/{agent_id}/scenarios/{scenario_id}".format(**ids),
        headers=actor.headers,
        json={"entry_condition": "the customer wants to leave the bank"},
    )
    assert response.status_code == 200, response.text
    return {"scenario_id": ids["scenario_id"]}


async def _plan_body(actor: Actor) -> dict[str, Any]:
    return {"from_version": 1}


_a_plan = created(
    "/v1/scenarios/{scenario_id}/migration-plans", _plan_body, "plan_id", _a_changed_scenario
)


async def _an_approved_plan(actor: Actor) -> dict[str, str]:
    ids = await _a_plan(actor)
    response = await actor.client.post(
        "/v1/scenarios/{scenario_id}/migration-plans/{plan_id}/approve".format(**ids),
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text
    return ids


async def _response_template_body(actor: Actor) -> dict[str, Any]:
    return {
        "name": f"template-{uuid.uuid4().hex[:8]}",
        "content": "Hello {{ profile.display_name | default('there') }}.",
        "mode": "SUGGEST",
    }


async def _variable_body(actor: Actor) -> dict[str, Any]:
    return {"name": f"v_{uuid.uuid4().hex[:8]}", "default_value": "standard"}


_a_response_template = created(
    "/v1/agents/{agent_id}/templates", _response_template_body, "template_id", _an_agent
)
_a_variable = created("/v1/agents/{agent_id}/variables", _variable_body, "variable_id", _an_agent)
_a_grant = created("/v1/personas/{persona_id}/tools", _grant_body, "grant_id", _a_persona)
_an_activation = created(
    "/v1/agents/{agent_id}/tool-activations", _activation_body, "activation_id", _an_agent
)


async def _capsule_body(actor: Actor) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:10]
    tool = {
        "name": f"sweep_{suffix}",
        "description": "A capsule's tool.",
        "code_type": "python",
        "code": "def main():\n    return 1\n",
    }
    template = {"name": "hello", "content": "Hello {{ who }}", "variables": ["who"]}
    manifest = {
        "name": f"sweep-{suffix}",
        "version": "1.0.0",
        "tools": [tool],
        "prompt_templates": [template],
    }
    return {"manifests": [manifest]}


async def _a_capsule(actor: Actor) -> dict[str, str]:
    response = await actor.client.post(
        "/v1/capsules/install", headers=actor.headers, json=await _capsule_body(actor)
    )
    assert response.status_code == 200, response.text
    return {"capsule_id": response.json()[0]["id"]}


async def _template_body(actor: Actor) -> dict[str, Any]:
    return {
        "template_name": f"sweep-{uuid.uuid4().hex[:8]}",
        "template_content": "Dear {{ name }},",
        "variables": ["name"],
    }


async def _template_patch(actor: Actor) -> dict[str, Any]:
    return {"template_content": "Hi {{ name }},"}


async def _render_body(actor: Actor) -> dict[str, Any]:
    return {"variables": {"name": "Sweep"}}


_a_template = created("/v1/prompt-templates", _template_body, "template_id")


async def _a_model(actor: Actor) -> dict[str, str]:
    """A persona, by the name the front door takes as `model`."""
    made = await actor.client.post(
        "/v1/personas", headers=actor.headers, json={"name": f"Sweep model {uuid.uuid4().hex[:8]}"}
    )
    assert made.status_code == 201, made.text
    return {"model": made.json()["name"]}


async def _a_persona_session(actor: Actor) -> dict[str, str]:
    """A session of a persona whose model names no config: its turns fail at once (the
    sweeps call no model)."""
    persona = await actor.client.post(
        "/v1/personas",
        headers=actor.headers,
        json={
            "name": f"Sweep speaker {uuid.uuid4().hex[:8]}",
            "default_provider": "sweep-no-such-model",
        },
    )
    assert persona.status_code == 201, persona.text
    made = await actor.client.post(
        "/v1/sessions", headers=actor.headers, json={"persona_id": persona.json()["id"]}
    )
    assert made.status_code == 201, made.text
    return {"session_id": made.json()["id"]}


async def _turn_body(actor: Actor) -> dict[str, Any]:
    return {"content": "Hello, sweep."}


async def _detached_body(actor: Actor) -> dict[str, Any]:
    return {**await _a_persona_session(actor), "content": "Hello, sweep."}


async def _a_run(actor: Actor) -> dict[str, str]:
    ids = await _a_persona_session(actor)
    done = await actor.client.post(
        f"/v1/sessions/{ids['session_id']}/messages",
        headers=actor.headers,
        json=await _turn_body(actor),
    )
    assert done.status_code == 200, done.text
    return {"run_id": done.json()["run"]["id"]}


async def _a_running_run(actor: Actor) -> dict[str, str]:
    """A run left `running` by a process that is gone, as the database would hold it."""
    ids = await _a_persona_session(actor)
    tenant = await _tenant_of(actor)
    async with actor.sessions() as session, session.begin():
        await bind_tenant(session, tenant)
        row = await session.get(Session, (tenant, uuid.UUID(ids["session_id"])))
        assert row is not None
        run = Run(
            tenant_id=row.tenant_id,
            session_id=row.id,
            persona_id=row.persona_id,
            trace_id=f"run-{uuid.uuid4()}",
            status="running",
            input="left behind",
        )
        session.add(run)
    return {"run_id": str(run.id)}


async def _tenant_of(actor: Actor) -> uuid.UUID:
    me = await actor.client.get("/v1/me", headers=actor.headers)
    return uuid.UUID(me.json()["tenant_id"])


async def _nudge_body(actor: Actor) -> dict[str, Any]:
    return {"event": "calm"}


async def _completion_body(actor: Actor) -> dict[str, Any]:
    name = f"speaker-{uuid.uuid4().hex[:8]}"
    persona = await actor.client.post(
        "/v1/personas",
        headers=actor.headers,
        json={"name": name, "default_provider": "sweep-no-such-model"},
    )
    assert persona.status_code == 201, persona.text
    return {"model": name, "messages": [{"role": "user", "content": "Hello, sweep."}]}


async def _memory_search_body(actor: Actor) -> dict[str, Any]:
    return {"query": "what does the sweep remember", "k": 5, "budget_tokens": 500}


async def _facts_body(actor: Actor) -> dict[str, Any]:
    return {"triples": [[(await _unique_name(actor))["name"], "knows", "the sweep"]]}


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case(signed_in=False),
    ("GET", "/readyz"): Case(signed_in=False),
    ("POST", "/v1/auth/login"): Case(body=_login_body, signed_in=False),
    ("POST", "/v1/auth/refresh"): Case(body=_refresh_body, signed_in=False),
    ("POST", "/v1/auth/logout"): Case(fresh_session=True),
    ("GET", "/v1/me"): Case(),
    ("GET", "/v1/tokens"): Case(),
    ("POST", "/v1/tokens"): Case(body=_token_body),
    ("DELETE", "/v1/tokens/{token_id}"): Case(ids=_a_token),
    ("GET", "/v1/audit"): Case(),
    ("GET", "/v1/secrets"): Case(),
    ("PUT", "/v1/secrets"): Case(body=_secret_body),
    ("POST", "/v1/secrets/{secret_id}/reveal"): Case(ids=_a_secret),
    ("DELETE", "/v1/secrets/{secret_id}"): Case(ids=_a_secret),
    ("GET", "/v1/members"): Case(),
    ("PUT", "/v1/members/{user_id}/roles"): Case(body=_roles_body, ids=_a_member),
    ("GET", "/v1/roles"): Case(),
    ("POST", "/v1/roles"): Case(body=_role_body),
    ("POST", "/v1/invitations"): Case(body=_invitation_body),
    ("POST", "/v1/invitations/accept"): Case(body=_accept_body, signed_in=False),
    ("GET", "/v1/flags"): Case(),
    ("PUT", "/v1/flags"): Case(body=_profile_body),
    ("PUT", "/v1/flags/{flag_key}"): Case(
        body=_flag_body, ids=_a_flag_override, catalogue_key=True
    ),
    ("DELETE", "/v1/flags/{flag_key}"): Case(ids=_a_flag_override, catalogue_key=True),
    ("GET", "/v1/model-configs"): Case(),
    ("POST", "/v1/model-configs"): Case(body=_model_config_body),
    ("GET", "/v1/model-configs/{config_id}"): Case(ids=_a_model_config),
    ("PATCH", "/v1/model-configs/{config_id}"): Case(body=_model_patch_body, ids=_a_model_config),
    ("DELETE", "/v1/model-configs/{config_id}"): Case(ids=_a_model_config),
    ("GET", "/v1/settings"): Case(),
    ("PUT", "/v1/settings/{scope}/{key}"): Case(
        body=_setting_body, ids=_a_setting, catalogue_key=True
    ),
    ("DELETE", "/v1/settings/{scope}/{key}"): Case(ids=_a_setting, catalogue_key=True),
    ("POST", "/v1/teams"): Case(body=_team_body),
    ("GET", "/v1/teams"): Case(),
    ("GET", "/v1/teams/{team_id}"): Case(ids=_a_team),
    ("PATCH", "/v1/teams/{team_id}"): Case(body=_team_body, ids=_a_team),
    ("DELETE", "/v1/teams/{team_id}"): Case(ids=_a_team),
    ("POST", "/v1/teams/{team_id}/members"): Case(body=_team_member_body, ids=_a_team),
    ("GET", "/v1/teams/{team_id}/members"): Case(ids=_a_team),
    ("GET", "/v1/teams/{team_id}/members/{member_id}"): Case(ids=_a_team_member),
    ("PATCH", "/v1/teams/{team_id}/members/{member_id}"): Case(body=_lead_body, ids=_a_team_member),
    ("DELETE", "/v1/teams/{team_id}/members/{member_id}"): Case(ids=_a_team_member),
    ("POST", "/v1/personas"): Case(body=_persona_body),
    ("GET", "/v1/personas"): Case(),
    ("GET", "/v1/personas/{persona_id}"): Case(ids=_a_persona),
    ("PATCH", "/v1/personas/{persona_id}"): Case(body=_persona_body, ids=_a_persona),
    ("DELETE", "/v1/personas/{persona_id}"): Case(ids=_a_persona),
    ("POST", "/v1/personas/{persona_id}/members"): Case(body=_share_body, ids=_a_persona),
    ("GET", "/v1/personas/{persona_id}/members"): Case(ids=_a_persona),
    ("GET", "/v1/personas/{persona_id}/members/{member_id}"): Case(ids=_a_share),
    ("PATCH", "/v1/personas/{persona_id}/members/{member_id}"): Case(
        body=_editor_body, ids=_a_share
    ),
    ("DELETE", "/v1/personas/{persona_id}/members/{member_id}"): Case(ids=_a_share),
    ("GET", "/v1/me/identities"): Case(),
    ("DELETE", "/v1/me/identities/{identity_id}"): Case(ids=_an_identity),
    ("POST", "/v1/sessions"): Case(body=_session_body),
    ("GET", "/v1/sessions"): Case(),
    ("POST", "/v1/sessions/by-channel"): Case(body=_channel_body),
    ("GET", "/v1/sessions/{session_id}"): Case(ids=_a_session),
    ("PATCH", "/v1/sessions/{session_id}"): Case(body=_session_patch_body, ids=_a_session),
    ("DELETE", "/v1/sessions/{session_id}"): Case(ids=_a_session),
    ("POST", "/v1/sessions/{session_id}/events"): Case(body=_events_body, ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/events"): Case(ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/messages"): Case(ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/turns"): Case(ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/stream"): Case(ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/export"): Case(ids=_a_session),
    ("POST", "/v1/telemetry/sessions"): Case(body=_telemetry_session_body),
    ("GET", "/v1/telemetry/sessions"): Case(),
    ("GET", "/v1/telemetry/sessions/{telemetry_session_id}"): Case(ids=_a_telemetry_session),
    ("DELETE", "/v1/telemetry/sessions/{telemetry_session_id}"): Case(ids=_a_telemetry_session),
    ("POST", "/v1/telemetry/sessions/{session_id}/events"): Case(
        body=_telemetry_event_body, ids=_a_telemetry_parent
    ),
    ("GET", "/v1/telemetry/sessions/{session_id}/events"): Case(ids=_a_telemetry_parent),
    ("GET", "/v1/telemetry/sessions/{session_id}/events/{event_id}"): Case(ids=_a_telemetry_event),
    ("DELETE", "/v1/telemetry/sessions/{session_id}/events/{event_id}"): Case(
        ids=_a_telemetry_event
    ),
    ("POST", "/v1/sessions/{session_id}/attachments"): Case(
        ids=_a_session, content=b"a file", query={"filename": "sweep.txt"}
    ),
    ("GET", "/v1/sessions/{session_id}/attachments"): Case(ids=_a_session),
    ("GET", "/v1/sessions/{session_id}/attachments/{attachment_id}"): Case(ids=_an_attachment),
    ("DELETE", "/v1/sessions/{session_id}/attachments/{attachment_id}"): Case(ids=_an_attachment),
    ("GET", "/v1/sessions/{session_id}/attachments/{attachment_id}/content"): Case(
        ids=_an_attachment
    ),
    ("POST", "/v1/documents"): Case(content=b"plain sweep text", query={"filename": "s.txt"}),
    ("GET", "/v1/documents"): Case(),
    ("GET", "/v1/documents/{document_id}"): Case(ids=_a_document),
    ("PATCH", "/v1/documents/{document_id}"): Case(body=_document_patch_body, ids=_a_document),
    ("DELETE", "/v1/documents/{document_id}"): Case(ids=_a_document),
    ("PUT", "/v1/documents/{document_id}/content"): Case(
        ids=_a_document, content=b"version two", query={"filename": "s.txt"}
    ),
    ("GET", "/v1/documents/{document_id}/versions"): Case(ids=_a_document),
    ("GET", "/v1/documents/{document_id}/chunks"): Case(ids=_a_document),
    ("PUT", "/v1/documents/{document_id}/categories"): Case(
        body=_category_ids_body, ids=_a_document
    ),
    ("GET", "/v1/documents/{document_id}/tags"): Case(ids=_a_document),
    ("PUT", "/v1/documents/{document_id}/tags"): Case(body=_tags_body, ids=_a_document),
    ("PUT", "/v1/documents/{document_id}/teams"): Case(body=_teams_body, ids=_a_document),
    ("POST", "/v1/document-categories"): Case(body=_unique_name),
    ("GET", "/v1/document-categories"): Case(),
    ("GET", "/v1/document-categories/{category_id}"): Case(ids=_a_category),
    ("PATCH", "/v1/document-categories/{category_id}"): Case(body=_unique_name, ids=_a_category),
    ("DELETE", "/v1/document-categories/{category_id}"): Case(ids=_a_category),
    ("POST", "/v1/document-tags"): Case(body=_unique_name),
    ("GET", "/v1/document-tags"): Case(),
    ("GET", "/v1/document-tags/{tag_id}"): Case(ids=_a_tag),
    ("DELETE", "/v1/document-tags/{tag_id}"): Case(ids=_a_tag),
    ("POST", "/v1/collections"): Case(body=_unique_name),
    ("GET", "/v1/collections"): Case(),
    ("GET", "/v1/collections/{collection_id}"): Case(ids=_a_collection),
    ("PATCH", "/v1/collections/{collection_id}"): Case(body=_unique_name, ids=_a_collection),
    ("DELETE", "/v1/collections/{collection_id}"): Case(ids=_a_collection),
    ("POST", "/v1/collections/{collection_id}/items"): Case(body=_item_body, ids=_a_collection),
    ("GET", "/v1/collections/{collection_id}/items"): Case(ids=_a_collection),
    ("GET", "/v1/collections/{collection_id}/items/{item_id}"): Case(ids=_an_item),
    ("DELETE", "/v1/collections/{collection_id}/items/{item_id}"): Case(ids=_an_item),
    ("POST", "/v1/search"): Case(body=_search_body, reads_only=True),
    ("GET", "/v1/embedding-models"): Case(),
    ("GET", "/v1/embeddings"): Case(),
    ("POST", "/v1/embeddings/switch"): Case(body=_switch_body),
    ("POST", "/v1/embeddings/prune"): Case(),
    ("POST", "/v1/entity-types"): Case(body=_unique_name),
    ("GET", "/v1/entity-types"): Case(),
    ("GET", "/v1/entity-types/{entity_type_id}"): Case(ids=_an_entity_type),
    ("PATCH", "/v1/entity-types/{entity_type_id}"): Case(body=_unique_name, ids=_an_entity_type),
    ("DELETE", "/v1/entity-types/{entity_type_id}"): Case(ids=_an_entity_type),
    ("POST", "/v1/entities"): Case(body=_entity_body),
    ("GET", "/v1/entities"): Case(),
    ("GET", "/v1/entities/{entity_id}"): Case(ids=_an_entity),
    ("PATCH", "/v1/entities/{entity_id}"): Case(body=_entity_body, ids=_an_entity),
    ("DELETE", "/v1/entities/{entity_id}"): Case(ids=_an_entity),
    ("GET", "/v1/entities/{entity_id}/documents"): Case(ids=_an_entity),
    ("GET", "/v1/documents/{document_id}/entities"): Case(ids=_a_document),
    ("POST", "/v1/memory/episodes"): Case(body=_episode_body),
    ("POST", "/v1/memory/episodes/batch"): Case(body=_episodes_body),
    ("GET", "/v1/memory/episodes"): Case(),
    ("GET", "/v1/memory/episodes/{episode_id}"): Case(ids=_an_episode),
    ("DELETE", "/v1/memory/episodes/{episode_id}"): Case(ids=_an_episode),
    ("POST", "/v1/memory/facts"): Case(body=_facts_body),
    ("GET", "/v1/memory/facts"): Case(),
    ("POST", "/v1/customer-profiles"): Case(body=_customer_body),
    ("GET", "/v1/customer-profiles"): Case(),
    ("GET", "/v1/customer-profiles/{profile_id}"): Case(ids=_a_customer),
    ("PATCH", "/v1/customer-profiles/{profile_id}"): Case(body=_customer_body, ids=_a_customer),
    ("DELETE", "/v1/customer-profiles/{profile_id}"): Case(ids=_a_customer),
    ("GET", "/v1/tools/builtins"): Case(),
    ("POST", "/v1/tools"): Case(body=_tool_body),
    ("GET", "/v1/tools"): Case(),
    ("GET", "/v1/tools/{tool_id}"): Case(ids=_a_tool),
    ("PATCH", "/v1/tools/{tool_id}"): Case(body=_tool_patch, ids=_a_tool),
    ("DELETE", "/v1/tools/{tool_id}"): Case(ids=_a_tool),
    ("PUT", "/v1/tools/{tool_id}/dependencies"): Case(body=_dependencies_body, ids=_a_tool),
    ("GET", "/v1/tools/{tool_id}/plan"): Case(ids=_a_tool),
    ("POST", "/v1/tools/{name}/execute"): Case(
        body=_calculation, ids=_calculator, audit_events=2, catalogue_key=True
    ),
    ("POST", "/v1/tools/search"): Case(body=_tool_search_body, reads_only=True),
    ("POST", "/v1/agents"): Case(body=_agent_body),
    ("GET", "/v1/agents"): Case(),
    ("GET", "/v1/agents/{agent_id}"): Case(ids=_an_agent),
    ("PATCH", "/v1/agents/{agent_id}"): Case(body=_agent_patch, ids=_an_agent),
    ("DELETE", "/v1/agents/{agent_id}"): Case(ids=_an_agent),
    ("POST", "/v1/personas/{persona_id}/tools"): Case(body=_grant_body, ids=_a_persona),
    ("GET", "/v1/personas/{persona_id}/tools"): Case(ids=_a_persona),
    ("GET", "/v1/personas/{persona_id}/tools/{grant_id}"): Case(ids=_a_grant),
    ("PATCH", "/v1/personas/{persona_id}/tools/{grant_id}"): Case(body=_grant_patch, ids=_a_grant),
    ("DELETE", "/v1/personas/{persona_id}/tools/{grant_id}"): Case(ids=_a_grant),
    ("POST", "/v1/agents/{agent_id}/rules"): Case(body=_rule_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/rules"): Case(ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/rules/{rule_id}"): Case(ids=_a_rule),
    ("PATCH", "/v1/agents/{agent_id}/rules/{rule_id}"): Case(body=_rule_patch, ids=_a_rule),
    ("DELETE", "/v1/agents/{agent_id}/rules/{rule_id}"): Case(ids=_a_rule),
    ("POST", "/v1/agents/{agent_id}/rules/import"): Case(body=_rules_import_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/rules/export"): Case(ids=_an_agent),
    ("POST", "/v1/agents/{agent_id}/scenarios"): Case(body=_scenario_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/scenarios"): Case(ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/scenarios/{scenario_id}"): Case(ids=_a_scenario),
    ("PATCH", "/v1/agents/{agent_id}/scenarios/{scenario_id}"): Case(
        body=_scenario_patch, ids=_a_scenario
    ),
    ("DELETE", "/v1/agents/{agent_id}/scenarios/{scenario_id}"): Case(ids=_a_scenario),
    ("GET", "/v1/agents/{agent_id}/scenarios/{scenario_id}/versions"): Case(ids=_a_scenario),
    ("GET", "/v1/agents/{agent_id}/scenarios/{scenario_id}/versions/{version}"): Case(
        ids=_a_scenario_version
    ),
    ("POST", "/v1/agents/{agent_id}/scenarios/import"): Case(
        body=_scenarios_import_body, ids=_an_agent
    ),
    ("GET", "/v1/agents/{agent_id}/scenarios/export"): Case(ids=_an_agent),
    ("POST", "/v1/scenarios/{scenario_id}/migration-plans"): Case(
        body=_plan_body, ids=_a_changed_scenario
    ),
    ("GET", "/v1/scenarios/{scenario_id}/migration-plans"): Case(ids=_a_changed_scenario),
    ("GET", "/v1/scenarios/{scenario_id}/migration-plans/{plan_id}"): Case(ids=_a_plan),
    ("POST", "/v1/scenarios/{scenario_id}/migration-plans/{plan_id}/approve"): Case(ids=_a_plan),
    ("POST", "/v1/scenarios/{scenario_id}/migration-plans/{plan_id}/deploy"): Case(
        ids=_an_approved_plan
    ),
    ("POST", "/v1/agents/{agent_id}/templates"): Case(body=_response_template_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/templates"): Case(ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/templates/{template_id}"): Case(ids=_a_response_template),
    ("PATCH", "/v1/agents/{agent_id}/templates/{template_id}"): Case(
        body=_response_template_body, ids=_a_response_template
    ),
    ("DELETE", "/v1/agents/{agent_id}/templates/{template_id}"): Case(ids=_a_response_template),
    ("POST", "/v1/agents/{agent_id}/variables"): Case(body=_variable_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/variables"): Case(ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/variables/{variable_id}"): Case(ids=_a_variable),
    ("PATCH", "/v1/agents/{agent_id}/variables/{variable_id}"): Case(
        body=_variable_body, ids=_a_variable
    ),
    ("DELETE", "/v1/agents/{agent_id}/variables/{variable_id}"): Case(ids=_a_variable),
    ("POST", "/v1/agents/{agent_id}/tool-activations"): Case(body=_activation_body, ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/tool-activations"): Case(ids=_an_agent),
    ("GET", "/v1/agents/{agent_id}/tool-activations/{activation_id}"): Case(ids=_an_activation),
    ("PATCH", "/v1/agents/{agent_id}/tool-activations/{activation_id}"): Case(
        body=_activation_patch, ids=_an_activation
    ),
    ("DELETE", "/v1/agents/{agent_id}/tool-activations/{activation_id}"): Case(ids=_an_activation),
    ("GET", "/v1/tool-executions"): Case(),
    ("GET", "/v1/tool-executions/{execution_id}"): Case(ids=_an_execution),
    ("POST", "/v1/tool-executions/{execution_id}/approve"): Case(
        ids=_a_waiting_execution, audit_events=3
    ),
    ("POST", "/v1/tool-executions/{execution_id}/deny"): Case(ids=_a_waiting_execution),
    ("GET", "/v1/dead-letters"): Case(),
    ("GET", "/v1/dead-letters/{letter_id}"): Case(ids=_a_dead_letter),
    ("DELETE", "/v1/dead-letters/{letter_id}"): Case(ids=_a_dead_letter),
    ("POST", "/v1/dead-letters/{letter_id}/replay"): Case(ids=_a_dead_letter, audit_events=3),
    ("GET", "/v1/capsules/offered"): Case(),
    ("POST", "/v1/capsules/install"): Case(body=_capsule_body),
    ("GET", "/v1/capsules"): Case(),
    ("GET", "/v1/capsules/{capsule_id}"): Case(ids=_a_capsule),
    ("POST", "/v1/capsules/{capsule_id}/uninstall"): Case(ids=_a_capsule),
    ("POST", "/v1/prompt-templates"): Case(body=_template_body),
    ("GET", "/v1/prompt-templates"): Case(),
    ("GET", "/v1/prompt-templates/{template_id}"): Case(ids=_a_template),
    ("PATCH", "/v1/prompt-templates/{template_id}"): Case(body=_template_patch, ids=_a_template),
    ("DELETE", "/v1/prompt-templates/{template_id}"): Case(ids=_a_template),
    ("POST", "/v1/prompt-templates/{template_id}/render"): Case(
        body=_render_body, ids=_a_template, reads_only=True
    ),
    ("POST", "/v1/sessions/{session_id}/messages"): Case(body=_turn_body, ids=_a_persona_session),
    ("POST", "/v1/runs"): Case(body=_detached_body),
    ("GET", "/v1/personas/{persona_id}/mood"): Case(ids=_a_persona),
    ("POST", "/v1/personas/{persona_id}/mood"): Case(body=_nudge_body, ids=_a_persona),
    ("POST", "/openai/v1/chat/completions"): Case(
        body=_completion_body, status=503, audit_events=2
    ),
    ("GET", "/openai/v1/models"): Case(),
    ("GET", "/openai/v1/models/{model}"): Case(ids=_a_model),
    ("POST", "/v1/me/password"): Case(body=_password_change_body),
    ("GET", "/v1/runs"): Case(),
    ("GET", "/v1/runs/{run_id}"): Case(ids=_a_run),
    ("GET", "/v1/runs/{run_id}/steps"): Case(ids=_a_run),
    ("POST", "/v1/runs/{run_id}/cancel"): Case(ids=_a_running_run),
    ("GET", "/v1/memory/graph"): Case(query={"named_in": "the sweep's entities", "depth": "2"}),
    ("POST", "/v1/memory/search"): Case(body=_memory_search_body, reads_only=True),
}
