"""Who is asking, in which brand, with which reach. Every read and write starts from one."""

from dataclasses import dataclass

from .errors import Forbidden
from .models import Brand, Location, Membership, User
from .roles import CAPABILITIES, Capability


@dataclass(frozen=True)
class Actor:
    user: User
    brand: Brand
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def scope(self) -> Location | None:
        """The top of the subtree this actor may see; None for the whole brand."""
        return self.membership.location

    @property
    def is_brand_wide(self) -> bool:
        return self.membership.location_id is None

    def can(self, capability: Capability) -> bool:
        return capability in CAPABILITIES.get(self.role, frozenset())

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise Forbidden(f"Your role ({self.membership.get_role_display()}) may not do this.")

    def covers(self, location: Location | None) -> bool:
        """Whether a row at `location` is within reach (brand-level rows need brand-wide reach)."""
        if location is None:
            return self.is_brand_wide
        if location.brand_id != self.brand.pk:
            return False
        return self.is_brand_wide or location.path.startswith(self.scope.path)
