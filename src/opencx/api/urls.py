"""The API's URL patterns: ninja's, with 405s in the error format, plus the local docs assets."""

from django.urls import URLPattern, path, re_path

from .docs import docs_asset
from .errors import method_not_allowed_as_json, unknown_route
from .root import api

_patterns, _app_name, _namespace = api.urls
for _pattern in _patterns:
    if isinstance(_pattern, URLPattern):
        _pattern.callback = method_not_allowed_as_json(_pattern.callback)
_patterns.append(path("docs/assets/<str:name>", docs_asset, name="docs-asset"))
# Last: any other address under /api/v1/ is a 404 in the error format, not an HTML page.
_patterns.append(re_path(r"^.*$", unknown_route, name="unknown-route"))

api_urls = (_patterns, _app_name, _namespace)
