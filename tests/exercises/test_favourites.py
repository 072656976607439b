"""Favourites: a staff member stars exercises their clinic may see; starred ones come
first in the library while nothing is searched for, and the Favourites filter shows
only them. Another clinic's private exercise is a 404, as everywhere."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from exercises.favourites import favourite_ids, favourite_set
from exercises.models import Favourite
from exercises.selectors import exercise_search, exercise_search_page
from tests.factories import ExerciseFactory


@pytest.fixture
def library(db):
    return {name: ExerciseFactory(name=name) for name in ("Ankle circles", "Bridge", "Wall sit")}


def star(client, exercise, on: bool, **extra):
    url = reverse("exercises:favourite", args=[exercise.slug])
    return client.post(url, {"on": "1" if on else "0", **extra}, **extra.pop("headers", {}))


def test_a_star_is_set_once_and_taken_off(alice, library):
    wall = library["Wall sit"]
    assert favourite_set(user=alice, exercise=wall, on=True)
    assert favourite_set(user=alice, exercise=wall, on=True)  # a double click: still one
    assert favourite_ids(alice) == {wall.pk}
    assert not favourite_set(user=alice, exercise=wall, on=False)
    assert not favourite_set(user=alice, exercise=wall, on=False)
    assert favourite_ids(alice) == set()


def test_the_database_holds_one_star_per_user_and_exercise(alice, library):
    Favourite.objects.create(user=alice, exercise=library["Bridge"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Favourite.objects.create(user=alice, exercise=library["Bridge"])


def test_starring_from_the_page_goes_back_where_it_came_from(alice_client, alice, library):
    wall = library["Wall sit"]
    response = star(alice_client, wall, True, next="/exercises/?q=wall")
    assert response.status_code == 302 and response.url == "/exercises/?q=wall"
    assert favourite_ids(alice) == {wall.pk}
    # Somewhere else entirely: the exercise's own page instead.
    response = star(alice_client, wall, False, next="https://evil.example/")
    assert response.url == wall.get_absolute_url()
    assert favourite_ids(alice) == set()


def pressed(page: str, name: str) -> str:
    """The aria-pressed of the star named "Favourite <name>" (one name, either state)."""
    found = re.search(
        rf'aria-pressed="(true|false)"[^>]*>\s*<span aria-hidden="true">[^<]*</span>'
        rf'<span class="visually-hidden">Favourite {re.escape(name)}</span>',
        page,
    )
    assert found, name
    return found.group(1)


def test_htmx_gets_the_star_back_pressed(alice_client, library):
    wall = library["Wall sit"]
    url = reverse("exercises:favourite", args=[wall.slug])
    response = alice_client.post(
        url, {"on": "1", "next": "/exercises/"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert pressed(page, "Wall sit") == "true"
    assert 'name="on" value="0"' in page and 'value="/exercises/"' in page
    # The exercise page's star keeps its word after the swap.
    response = alice_client.post(
        url, {"on": "0", "labelled": "1", "next": "/x/"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "☆ Favourite" in page and 'name="labelled"' in page
    assert 'aria-pressed="false"' in page


def test_the_star_on_the_exercise_page_and_the_cards(alice_client, alice, library):
    wall = library["Wall sit"]
    page = alice_client.get(wall.get_absolute_url()).content.decode()
    assert pressed(page, "Wall sit") == "false"
    favourite_set(user=alice, exercise=wall, on=True)
    page = alice_client.get(wall.get_absolute_url()).content.decode()
    assert pressed(page, "Wall sit") == "true"
    page = alice_client.get(reverse("exercises:list")).content.decode()
    assert pressed(page, "Wall sit") == "true" and pressed(page, "Bridge") == "false"


def test_another_clinics_private_exercise_cannot_be_starred(alice_client, alice, other_clinic):
    theirs = ExerciseFactory(name="Their secret", clinic=other_clinic)
    assert star(alice_client, theirs, True).status_code == 404
    draft = ExerciseFactory(name="Not yet", status="draft")
    assert star(alice_client, draft, True).status_code == 404
    assert not Favourite.objects.exists()


def test_favourites_come_first_while_browsing_not_in_a_search(alice, bob, library):
    favourite_set(user=alice, exercise=library["Wall sit"], on=True)
    browse = [e.name for e in exercise_search(clinic=None, user=alice)]
    assert browse == ["Wall sit", "Ankle circles", "Bridge"]
    # A colleague's stars are their own.
    assert [e.name for e in exercise_search(clinic=None, user=bob)][0] == "Ankle circles"
    # Without a user (the index-read browse), by name as before.
    assert [e.name for e in exercise_search(clinic=None)][0] == "Ankle circles"
    ExerciseFactory(name="Bridge with a band")
    found = [e.name for e in exercise_search(clinic=None, query="bridge", user=alice)]
    assert found[0] == "Bridge"


def test_the_favourites_filter_shows_only_them(alice_client, alice, library):
    favourite_set(user=alice, exercise=library["Bridge"], on=True)
    page = exercise_search_page(clinic=None, user=alice, favourites_only=True)
    assert [e.name for e in page.object_list] == ["Bridge"]
    html = alice_client.get(reverse("exercises:list"), {"favourites": "on"}).content.decode()
    assert "Favourite Ankle circles</span>" not in html
    assert pressed(html, "Bridge") == "true"
