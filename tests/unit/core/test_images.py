"""Images: natural order, image names, matching scenes to images."""

from __future__ import annotations

import pytest

from videogen_core import MissingImage, is_image_name, match_images, natural_sorted
from videogen_core.images import natural_key


def test_natural_sorted_compares_numbers_as_numbers() -> None:
    names = ["img10.png", "img2.png", "img1.png", "img1b.png", "a.png"]
    assert natural_sorted(names) == ["a.png", "img1.png", "img1b.png", "img2.png", "img10.png"]


def test_natural_sorted_ignores_case_and_handles_leading_zeros() -> None:
    assert natural_sorted(["B.png", "a.png", "C.png"]) == ["a.png", "B.png", "C.png"]
    assert natural_sorted(["010.jpg", "9.jpg", "0011.jpg"]) == ["9.jpg", "010.jpg", "0011.jpg"]
    assert natural_key("x2") < natural_key("x10")


def test_natural_sorted_mixed_names_do_not_raise() -> None:
    names = ["1", "a", "a1", "1a", "", "_", "é2", "10"]
    assert sorted(natural_sorted(names)) == sorted(names)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.png", True), ("A.JPG", True), ("x/y/photo.jpeg", True), ("b.webp", True),
     ("c.tiff", True), ("d.gif", True), (".hidden.png", False), ("x/.hidden.png", False),
     ("notes.txt", False), ("png", False), ("archive.png.zip", False)],
)
def test_is_image_name(name: str, expected: bool) -> None:
    assert is_image_name(name) is expected


def test_match_by_trailing_number() -> None:
    names = ["f/scene_3.png", "f/scene_1.png", "f/scene_2.jpg"]
    assert match_images([1, 2, 3], names, "f") == {
        1: "f/scene_1.png", 2: "f/scene_2.jpg", 3: "f/scene_3.png"}


def test_match_by_trailing_number_with_leading_zeros_and_any_order() -> None:
    names = ["f/003.jpg", "f/001.jpg", "f/002.jpg"]
    assert match_images([3, 1], names) == {3: "f/003.jpg", 1: "f/001.jpg"}


def test_number_must_be_trailing_in_the_stem() -> None:
    # "3a" does not end in 3; "shot3" does; the extension is not part of the stem
    names = ["f/3a.png", "f/shot3.png", "f/x.mp3.png"]
    assert match_images([3], names)[3] == "f/shot3.png"


def test_match_by_position_in_natural_order_when_no_name_matches() -> None:
    names = ["f/beach.png", "f/alps.png", "f/city.png"]
    assert match_images([1, 2, 3], names) == {1: "f/alps.png", 2: "f/beach.png", 3: "f/city.png"}


def test_match_mixes_numbers_and_positions() -> None:
    names = ["f/intro.png", "f/scene_2.png", "f/zeta.png"]
    result = match_images([1, 2, 3], names)
    assert result[2] == "f/scene_2.png"
    assert result[1] == "f/intro.png"  # 1st in natural order
    assert result[3] == "f/zeta.png"  # 3rd in natural order


def test_scene_numbers_beyond_the_folder_fall_back_to_position() -> None:
    assert match_images([10, 20], ["f/b.png", "f/a.png"]) == {10: "f/a.png", 20: "f/b.png"}


def test_missing_image_names_scene_and_lists_folder() -> None:
    with pytest.raises(MissingImage) as info:
        match_images([1, 2, 3], ["f/only.png", "f/sub/x.png"], "f")
    err = info.value
    assert err.details["scene_number"] == 3
    assert err.details["folder_id"] == "f"
    assert err.details["available"] == ["only.png", "x.png"]
    assert "scene 3" in err.message and "only.png" in err.message and "'f'" in err.message
    assert err.code == "missing_image"


def test_missing_image_in_empty_folder() -> None:
    with pytest.raises(MissingImage) as info:
        match_images([1], [], "empty")
    assert "no images" in info.value.message
    assert info.value.details["available"] == []


def test_fallback_never_reuses_an_image_claimed_by_another_scene() -> None:
    mapping = match_images([1, 2, 3], ["scene_1.png", "scene_3.png", "other.png"])
    assert mapping == {1: "scene_1.png", 2: "other.png", 3: "scene_3.png"}


def test_fallback_runs_out_of_spare_images() -> None:
    with pytest.raises(MissingImage) as info:
        match_images([1, 2, 3], ["scene_1.png", "scene_3.png"], "f")
    assert info.value.details["scene_number"] == 2
