"""Key validation shared by every storage adapter."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videogen_adapters.storage.keys import (
    MAX_KEY_BYTES,
    folder_prefix,
    image_children,
    join_prefix,
    strip_prefix,
    validate_key,
    validate_prefix,
)
from videogen_core import PathNotAllowed


@pytest.mark.parametrize("key", ["a.png", "folder/scene_1.png", "f/videos/final.mp4",
                                 "with space/é ü.png", "..hidden/x", "a/..b/c", "a/b.", "..."])
def test_good_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("a/\x00b", "NUL"),
        ("a/\x1fb", "control"),
        ("a\\b", "backslash"),
        ("/abs", "absolute"),
        ("C:/x", "drive"),
        ("d:x", "drive"),
        ("a//b", "empty path segment"),
        ("a/", "empty path segment"),
        ("..", "'..'"),
        ("a/../b", "'..'"),
        (".", "'.'"),
        ("a/./b", "'.'"),
        ("x" * (MAX_KEY_BYTES + 1), "longer"),
        ("é" * (MAX_KEY_BYTES // 2 + 1), "longer"),  # bytes, not characters
        ("f/.videogen-tmp-a.png.123.part", "temporary"),
    ],
)
def test_bad_keys_name_the_key_and_the_reason(key: str, reason: str) -> None:
    with pytest.raises(PathNotAllowed) as caught:
        validate_key(key, field="folder_id")
    assert reason in caught.value.message
    assert caught.value.field == "folder_id"
    assert caught.value.details["key"] == key


def test_non_string_is_refused() -> None:
    with pytest.raises(PathNotAllowed):
        validate_key(b"a.png")  # type: ignore[arg-type]


@given(st.text(alphabet=st.sampled_from(list("ab./\\:\x00C")), max_size=12))
def test_every_accepted_key_stays_below_the_root(key: str) -> None:
    try:
        validate_key(key)
    except PathNotAllowed:
        return
    root = "/srv/root"
    joined = posixpath.normpath(posixpath.join(root, key))
    assert joined.startswith(root + "/")
    assert joined == posixpath.join(root, key)  # nothing to normalise away
    assert os.path.isabs(key) is False


def test_prefix_helpers() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("/tenant/videogen/") == "tenant/videogen"
    with pytest.raises(PathNotAllowed):
        validate_prefix("../up")
    assert join_prefix("p/q", "f/a.png") == "p/q/f/a.png"
    assert join_prefix("", "f/a.png") == "f/a.png"
    assert strip_prefix("p/q", "p/q/f/a.png") == "f/a.png"
    assert strip_prefix("", "f/a.png") == "f/a.png"
    with pytest.raises(PathNotAllowed):
        join_prefix("p", "../x")
    assert folder_prefix("f/g") == "f/g/"


def test_image_children_filters_and_sorts() -> None:
    keys = ["f/10.png", "f/2.JPG", "f/sub/1.png", "f/.hidden.png", "f/a.txt", "fx/1.png",
            "f/.videogen-tmp-3.png.x.part", "f/1.webp"]
    assert image_children("f", keys) == ["f/1.webp", "f/2.JPG", "f/10.png"]
