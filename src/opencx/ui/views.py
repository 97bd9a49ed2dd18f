"""Pages that belong to no single capability: the start page, the scope switcher, probes."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from opencx.platform.selectors import brands_of, location_get

from .brand_views import SESSION_KEY, brand_page


@login_required
def home(request):
    brand = brands_of(user=request.user).first()
    if brand is None:
        return render(request, "ui/no_brand.html")
    return redirect("insights:overview", brand.slug)


@brand_page
@require_POST
def switch_scope(request):
    """Switch brand (go to its overview) or narrow every page to one location's subtree."""
    actor = request.actor
    target_brand = request.POST.get("brand") or actor.brand.slug
    if target_brand != actor.brand.slug:
        return redirect("insights:overview", target_brand)
    key = SESSION_KEY.format(brand=actor.brand.pk)
    location_id = request.POST.get("location", "")
    if location_id:
        if not location_id.isdigit():
            return redirect("insights:overview", actor.brand.slug)
        request.session[key] = location_get(actor, pk=int(location_id)).pk
    else:
        request.session.pop(key, None)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("insights:overview", args=[actor.brand.slug])
    return redirect(next_url)


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """Ready when the database answers and every migration is applied."""
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # any database failure means not ready
        return JsonResponse({"status": "unavailable", "database": str(error)[:200]}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "pending_migrations": len(pending)},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok", "pending_migrations": 0})
