"""The API root: token auth, one error format, each app's router mounted under /api/v1/."""

from ninja import NinjaAPI

from opencx.cases.api import router as cases_router
from opencx.contacts.api import router as contacts_router
from opencx.feedback.api import router as feedback_router
from opencx.inbox.api import router as inbox_router
from opencx.inbox.settings_api import router as inbox_settings_router
from opencx.insights.alert_api import router as alerts_router
from opencx.insights.api import router as insights_router
from opencx.insights.taxonomy_api import router as taxonomy_router
from opencx.integrations.api import router as integrations_router
from opencx.offers.api import router as offers_router
from opencx.platform.api import router as platform_router
from opencx.surveys.api import router as surveys_router

from .auth import AUTH
from .docs import LocalSwagger
from .errors import install_error_handlers

DESCRIPTION = """\
OpenCX's REST API. Authenticate with a personal API token (`Authorization: Bearer ocx_…`,
created under Settings → API tokens) or, from the browser, with the signed-in session
(unsafe methods then need the `X-CSRFToken` header).

Every error has the same body: `{"code": "...", "message": "...", "field": "..." | null}`.
Lists take `limit` (default 50, at most 500) and `offset` and answer
`{"count", "next_offset", "items"}`; `next_offset` is null on the last page.
Objects of a brand you are not a member of, or outside your part of it, are 404.
"""

api = NinjaAPI(
    title="OpenCX API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    docs=LocalSwagger(),
    docs_url="/docs",
)
install_error_handlers(api)

api.add_router("", platform_router)
api.add_router("", contacts_router)
api.add_router("", surveys_router)
api.add_router("", feedback_router)
api.add_router("", inbox_router)
api.add_router("", inbox_settings_router)
api.add_router("", insights_router)
api.add_router("", alerts_router)
api.add_router("", taxonomy_router)
api.add_router("", cases_router)
api.add_router("", integrations_router)
api.add_router("", offers_router)
