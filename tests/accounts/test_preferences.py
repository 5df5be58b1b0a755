"""A person's language and time zone: set from the header's link, kept across logins, refused when unknown."""

import re

import pytest
from django.test import Client

from accounts.models import Preference

PAGE = "/account/preferences/"
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def save(client, language="", time_zone="", next_page="/"):
    return client.post(PAGE, {"language": language, "time_zone": time_zone, "next": next_page})


@pytest.mark.django_db
def test_it_saves_the_language_and_the_time_zone_and_applies_them(alice_client, alice):
    response = save(alice_client, "ja", "Asia/Tokyo", next_page="/runbooks/")
    assert response.status_code == 302 and response["Location"] == "/runbooks/"
    assert Preference.objects.get(user=alice).time_zone == "Asia/Tokyo"
    page = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ja">' in page
    assert "日本語 · JST" in page  # the header says what is in force


@pytest.mark.django_db
def test_it_says_saved_in_the_language_just_chosen(alice_client):
    response = save(alice_client, "ja", "", next_page="/runbooks/")
    page = alice_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "保存しました" in page


@pytest.mark.django_db
def test_it_follows_the_browser_while_nothing_is_saved(alice_client):
    assert '<html lang="ja">' in alice_client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="en">' in alice_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_it_follows_the_browser_again_after_blank_is_saved(alice_client):
    save(alice_client, "ja")
    save(alice_client, "")
    assert '<html lang="en">' in alice_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_it_keeps_the_preference_across_logins(alice):
    first = Client()
    first.force_login(alice)
    save(first, "ja", "Asia/Tokyo")
    first.post("/logout/")
    second = Client()
    second.force_login(alice)
    page = second.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ja">' in page and "JST" in page


@pytest.mark.django_db
def test_it_refuses_an_unknown_language_code_with_a_clear_error(alice_client, alice):
    response = save(alice_client, "klingon", "")
    assert response.status_code == 400
    assert "klingon" in response.content.decode()
    assert not Preference.objects.filter(user=alice).exists()


@pytest.mark.django_db
def test_it_refuses_an_unknown_time_zone(alice_client, alice):
    response = save(alice_client, "en", "Mars/Olympus_Mons")
    assert response.status_code == 400
    assert not Preference.objects.filter(user=alice).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["x" * 10_000, "%_", "../../etc/passwd", "ja\x00"])
def test_it_answers_hostile_values_with_400_not_500(alice_client, value):
    assert save(alice_client, value, value).status_code == 400


@pytest.mark.django_db
def test_it_answers_a_lone_surrogate_with_400_not_500(alice_client):
    body = "language=%ED%A0%80&time_zone=%ED%A0%80&next=/"  # UTF-8 bytes of an unpaired surrogate
    response = alice_client.post(PAGE, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.django_db
def test_it_does_not_send_a_person_to_another_site_afterwards(alice_client):
    response = save(alice_client, "en", "", next_page="https://evil.example.com/")
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_it_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_it_shows_times_in_the_browsers_zone_where_none_is_saved(alice_client):
    alice_client.cookies["portal_tz"] = "Asia/Tokyo"
    assert "JST" in alice_client.get(PAGE).content.decode()
    alice_client.cookies["portal_tz"] = "Not/AZone"
    assert "UTC" in alice_client.get(PAGE).content.decode()


@pytest.mark.django_db
def test_it_prefers_the_saved_zone_over_the_browsers(alice_client):
    save(alice_client, "en", "Europe/Berlin")
    alice_client.cookies["portal_tz"] = "Asia/Tokyo"
    page = alice_client.get(PAGE).content.decode()
    assert "Europe/Berlin (CET)" in page and "JST" not in page


@pytest.mark.django_db
def test_its_page_in_english_has_no_japanese_but_the_language_names(alice_client):
    page = alice_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert CJK.findall(page.replace("日本語", "")) == []
