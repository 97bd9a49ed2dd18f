from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import ResponseFactory, SurveyFactory


def test_overview_shows_nps_with_n_and_interval(client, brand, owner, store):
    survey = SurveyFactory(brand=brand)
    recent = timezone.now() - timedelta(days=3)
    for score in [10, 10, 9, 8, 3]:
        ResponseFactory(survey=survey, location=store, score=score, created_at=recent)
    client.force_login(owner)

    page = client.get(reverse("insights:overview", args=[brand.slug]))

    assert page.status_code == 200
    nps = page.context["nps"]
    assert (nps.value, nps.n) == (40.0, 5)
    assert nps.ci_low < 40 < nps.ci_high
    assert "thin sample" in page.content.decode()


def test_overview_of_a_brand_the_user_is_not_in_is_404(client, brand, stranger):
    client.force_login(stranger)
    assert client.get(reverse("insights:overview", args=[brand.slug])).status_code == 404
