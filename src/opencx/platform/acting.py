"""Who a management command acts as: `--as EMAIL`, or else the brand's first owner.

Commands (survey import and export, feedback import) write through the same services as the
pages and the API, so they need an actor whose role allows the change; the audit log then names
that person.
"""

from django.core.management.base import CommandError

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Brand, Membership, User
from opencx.platform.roles import Role
from opencx.platform.selectors import actor_for


def add_actor_arguments(parser) -> None:
    parser.add_argument("--brand", required=True, help="The brand's slug")
    parser.add_argument(
        "--as",
        dest="as_email",
        default="",
        metavar="EMAIL",
        help="Act as this member of the brand (default: the brand's first owner)",
    )


def acting_actor(*, brand_slug: str, email: str = "") -> Actor:
    brand = Brand.objects.filter(slug=brand_slug).first()
    if brand is None:
        raise CommandError(f"No brand with slug {brand_slug!r}.")
    if email:
        user = User.objects.filter(email__iexact=email.strip()).first()
        try:
            if user is None:
                raise NotFound("No such user.")
            return actor_for(user=user, brand_slug=brand.slug)
        except NotFound:
            raise CommandError(f"{email} is not a member of {brand.slug}.") from None
    membership = (
        Membership.objects.select_related("user", "brand", "location")
        .filter(brand=brand, role=Role.OWNER, user__is_active=True)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise CommandError(f"{brand.slug} has no active owner: name a member with --as EMAIL.")
    return Actor(user=membership.user, brand=brand, membership=membership)
