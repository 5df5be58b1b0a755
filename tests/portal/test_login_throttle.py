"""Password login is throttled by django-axes: failures count per username and client address, then a
cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
COLLEAGUE = "198.51.100.20"
PROXY = "10.0.0.2"


def log_in(client, url, username, password, address=ATTACKER, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def guess_wrong(client, url, username, times=40, address=ATTACKER, **headers):
    return [log_in(client, url, username, "wrong", address, **headers).status_code for _ in range(times)]


def is_logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_it_refuses_the_right_password_after_40_wrong_ones(client, alice, url):
    alice.is_staff = True  # the admin site lets only staff in, even with the right password
    alice.save()

    statuses = guess_wrong(client, url, "alice")
    response = log_in(client, url, "alice", "password")

    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit - 1 :]) == {429}
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_it_answers_a_page_that_says_when_to_try_again(client, alice):
    guess_wrong(client, "/login/", "alice", times=settings.AXES_FAILURE_LIMIT)

    response = log_in(client, "/login/", "alice", "password")

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "registration/lockout.html" in [t.name for t in response.templates]
    text = response.content.decode()
    assert "Too many failed attempts" in text
    assert "try again in 15 minutes or ask an admin" in text


def test_it_lets_other_users_and_other_addresses_in(client, alice, bob):
    guess_wrong(client, "/login/", "alice")

    assert log_in(client, "/login/", "bob", "password", ATTACKER).status_code == 302
    client.logout()
    assert log_in(client, "/login/", "alice", "password", COLLEAGUE).status_code == 302
    assert is_logged_in(client)


def test_it_lets_the_user_in_again_once_the_cool_off_has_passed(client, alice):
    guess_wrong(client, "/login/", "alice")
    cool_off = timedelta(minutes=settings.AXES_COOLOFF_MINUTES)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cool_off + timedelta(seconds=1)
        attempt.save()

    response = log_in(client, "/login/", "alice", "password")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_it_unlocks_the_user_with_axes_reset_username(client, alice):
    guess_wrong(client, "/login/", "alice")
    assert log_in(client, "/login/", "alice", "password").status_code == 429

    call_command("axes_reset_username", "alice")

    assert log_in(client, "/login/", "alice", "password").status_code == 302


def test_it_counts_per_client_address_behind_the_proxy(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; what a client writes itself stays to the left.
    spoofed = {"HTTP_X_FORWARDED_FOR": f"{COLLEAGUE}, {ATTACKER}"}
    guess_wrong(client, "/login/", "alice", address=PROXY, **spoofed)

    from_attacker = log_in(client, "/login/", "alice", "password", PROXY, **spoofed)
    from_colleague = log_in(client, "/login/", "alice", "password", PROXY, HTTP_X_FORWARDED_FOR=COLLEAGUE)

    assert from_attacker.status_code == 429
    assert from_colleague.status_code == 302


def test_it_keeps_api_tokens_working_for_a_locked_out_user(client, alice):
    token = Token.objects.create(user=alice)
    guess_wrong(client, "/login/", "alice")

    response = client.get("/api/items/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200


def test_it_still_lets_the_test_client_log_in(client, alice):
    # Django's test client authenticates without a request, which axes' backend refuses by default.
    assert client.login(username="alice", password="password")
    assert client.get("/").status_code == 200
