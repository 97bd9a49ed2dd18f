"""Swagger UI served from the copy inside the django-ninja package: no CDN, works offline."""

from pathlib import Path

import ninja
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import Swagger

ASSET_DIR = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}


class LocalSwagger(Swagger):
    def render_page(self, request: HttpRequest, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        namespace = api.urls_namespace
        context = {
            "api": api,
            "swagger_settings": self.settings,
            "assets": {
                name.replace("-", "_").replace(".", "_"): reverse(
                    f"{namespace}:docs-asset", kwargs={"name": name}
                )
                for name in ASSETS
            },
        }
        return render(request, "api/docs.html", context)


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404("No such asset.")
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
