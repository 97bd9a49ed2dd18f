"""Roles and what each may do. One table, read by every permission check."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    BRAND_ADMIN = "brand_admin", "Brand admin"
    CX_MANAGER = "cx_manager", "CX manager"
    LOCATION_MANAGER = "location_manager", "Location manager"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


class Capability(StrEnum):
    VIEW = "view"
    REPLY = "reply"  # answer customers, work cases and conversations
    MANAGE_FEEDBACK = "manage_feedback"  # surveys, imports, rules
    MANAGE_LOCATIONS = "manage_locations"
    MANAGE_TOUCHPOINTS = "manage_touchpoints"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_BRAND = "manage_brand"


_ALL = frozenset(Capability)
CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: _ALL,
    Role.BRAND_ADMIN: _ALL,
    Role.CX_MANAGER: frozenset(
        {
            Capability.VIEW,
            Capability.REPLY,
            Capability.MANAGE_FEEDBACK,
            Capability.MANAGE_TOUCHPOINTS,
            Capability.MANAGE_LOCATIONS,
        }
    ),
    Role.LOCATION_MANAGER: frozenset({Capability.VIEW, Capability.REPLY}),
    Role.AGENT: frozenset({Capability.VIEW, Capability.REPLY}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

# Roles that only an owner may hand out.
OWNER_ONLY_ROLES = frozenset({Role.OWNER})
