"""The Studio page in a real (headless) Chromium against a real ``videogen serve``.

Uploads three images, reorders them by dragging and by keyboard, fills the
scenes, sees a bad duration's error next to its field, renders with a live
progress bar, plays the video, and cancels a second job. Screenshots at 375
and 1440 px wide are saved (``STUDIO_SCREENSHOTS=<dir>`` keeps them).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from tests.browser.conftest import AUTH, TOKEN

from videogen_adapters.converter import structure_request
from videogen_core import match_images, natural_sorted
from videogen_core.motion import parse_clip_action
from videogen_core.timeline import fit_narration

pytestmark = [pytest.mark.server, pytest.mark.slow]


def photo(path: Path, seed: int) -> Path:
    """A small picture with structure (so thumbnails and frames are not flat)."""
    rng = np.random.default_rng(seed)
    h, w = 120, 200
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    img = np.stack([0.2 + 0.6 * x, 0.3 + 0.5 * y, 0.5 + 0.4 * np.sin(6 * x + seed)], -1)
    img = np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1)
    out = io.BytesIO()
    Image.fromarray((img * 255).astype(np.uint8)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


def validate_request(body: dict[str, Any]) -> None:
    """``body`` fits the OpenAPI document's GenerateRequest schema."""
    import jsonschema

    from videogen_http.openapi import openapi_document

    doc = openapi_document()
    jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/GenerateRequest", "components": doc["components"]}
    ).validate(body)


def wait(what: Callable[[], Any], timeout: float = 30.0, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message or what}")
        time.sleep(0.05)


def by_id(driver: Any, element_id: str) -> Any:
    return driver.find_element("id", element_id)


def cards(driver: Any) -> list[Any]:
    return driver.find_elements("css selector", "#scenes > li.scene")


def card_images(driver: Any) -> list[str]:
    return [c.find_element("css selector", ".image-name").text.split(" ")[0]
            for c in cards(driver)]


def set_value(element: Any, text: str) -> None:
    element.clear()
    element.send_keys(text)


def open_studio(driver: Any, url: str) -> None:
    """Load the page; give the token when it asks."""
    driver.get(url + "/")
    dialog = by_id(driver, "token-dialog")
    wait(lambda: dialog.get_attribute("open") is not None
         or driver.execute_script("return document.body.dataset.ready"), message="token dialog")
    if dialog.get_attribute("open") is not None:
        set_value(by_id(driver, "token-input"), TOKEN)
        by_id(driver, "token-save").click()
    wait(lambda: driver.execute_script("return document.body.dataset.ready === 'true'"),
         message="capabilities")


def upload_three(driver: Any, folder: str, tmp: Path) -> list[Path]:
    set_value(by_id(driver, "folder"), folder)
    by_id(driver, "folder-open").click()
    wait(lambda: "new folder" in by_id(driver, "folder-status").text, message="new folder")
    paths = [photo(tmp / f"{name}.png", i) for i, name in enumerate(("harbour", "boats",
                                                                     "night"))]
    by_id(driver, "file-input").send_keys("\n".join(str(p) for p in paths))
    wait(lambda: len(cards(driver)) == 3, message="three cards")
    wait(lambda: "3 added" in by_id(driver, "folder-status").text, message="uploads")
    return paths


def js_errors(driver: Any) -> list[str]:
    """Script errors logged by the page (expected HTTP errors — 401, 400, 404 — aside)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and "Failed to load resource" not in e["message"]]


def test_the_page_rules_are_the_servers(browser: Any, studio_server: str) -> None:
    """rules.js (live hints) parses clip actions and fits narration exactly as the core."""
    open_studio(browser, studio_server)
    actions = ["slow zoom in", "Zoom-Out and pan right, misty forest", "pan left then tilt up",
               "gently zoom in slowly", "static", "quick push in, truck left & tilt down",
               "zooming into the town, panning", "hold still", "a calm lake", "",
               "fast, slow zoom out", "pull back; dolly in + pan up and fast pan down",
               "zoom in quickly then pan left slowly", "slowly", "pan_right gently",
               "Zooms IN and pans and tilts"]
    fits = [(5.0, 3.0, 0.45), (3.0, 3.5, 0.95), (3.0, 9.0, 0.45), (2.0, 0.0, 0.45),
            (4.0, 4.1, 0.45)]
    got = browser.execute_async_script("""
        const [actions, fits, done] = arguments;
        import('/studio/rules.js').then((r) => done({
          parsed: actions.map((a) => { const p = r.parseClipAction(a);
            return [p.movements.map(r.movementText), p.description]; }),
          fits: fits.map(([d, n, l]) => r.fitNarration(d, n, l, 1.25)),
        }));""", actions, fits)
    for action, (movements, description) in zip(actions, got["parsed"], strict=True):
        expected = parse_clip_action(action)
        assert movements == [str(m) for m in expected.movements], action
        assert description == expected.description, action
    for (d, n, loss), fit in zip(fits, got["fits"], strict=True):
        expected = fit_narration(d, n, loss, 1.25)
        assert fit["speed"] == pytest.approx(expected.speed)
        assert fit["duration"] == pytest.approx(expected.duration)
        assert fit["extendedBy"] == pytest.approx(expected.extended_by)


LISTINGS = [
    ["harbour_1.png", "boats_2.png", "night_3.png"],
    ["a_1.png", "b_1.png", "c.png"],  # a duplicated number, an unnumbered name
    ["IMG_2034.jpg", "IMG_2035.jpg", "beach.png", "dunes.png"],
    ["PXL_20240312_101500123.jpg", "cat.png", "dog.png"],  # a number above the limit
    ["1.png", "photo.png", "x_2.png"],  # "photo" at position 2 is taken by x_2
    ["scene_01.png", "scene_1.png", "scene_10.png", "scene_2.png", "zebra.png"],
]


def test_the_page_picks_each_image_by_the_servers_matching(browser: Any,
                                                           studio_server: str) -> None:
    """Every scene_number the page gives a card selects that card's image on the server
    (videogen_core.match_images), whichever cards are kept and in whatever order —
    also after two uploads, which get numbers of their own."""
    open_studio(browser, studio_server)
    compute = """
        const [listings, done] = arguments;
        import('/studio/rules.js').then((r) => done(listings.map((l) => ({
          numbers: Object.fromEntries(r.numbersOfImages(l)),
          next: r.nextImageNumber(l, 2)}))));"""
    before = [natural_sorted(listing) for listing in LISTINGS]
    got = browser.execute_async_script(compute, before)
    after = [natural_sorted([*listing, *(f"new_{r['next'] + i}.png" for i in range(2))])
             for listing, r in zip(before, got, strict=True)]
    got_after = browser.execute_async_script(compute, after)
    for listing, result in zip([*before, *after], [*got, *got_after], strict=True):
        assert set(result["numbers"]) == set(listing)
        numbers = [(name, n) for name, n in result["numbers"].items() if n is not None]
        for order in (numbers, numbers[::-1], numbers[1:]):
            mapping = match_images([n for _, n in order], listing)
            assert {n: name for name, n in order} == mapping, (listing, order)
    for listing, result in zip(after, got_after, strict=True):
        for name in listing:
            if name.startswith("new_"):  # an upload is picked by the number it was named with
                assert result["numbers"][name] == int(name[4:-4])
    # a folder of numbered names (the Studio's own uploads) keeps every image pickable
    for index in (0, 2):
        assert None not in got[index]["numbers"].values()
        assert None not in got_after[index]["numbers"].values()
    # what the page leaves out is what the server could pick by neither number nor position
    assert [n for n, v in got[4]["numbers"].items() if v is None] == ["photo.png"]
    assert [n for n, v in got[5]["numbers"].items() if v is None] == ["scene_1.png"]


def test_make_a_video_from_photos(browser: Any, studio_server: str, tmp_path: Path,
                                  screenshot_dir: Path) -> None:
    driver = browser
    driver.set_window_size(1440, 1000)
    driver.get(f"{studio_server}/healthz")  # this origin, for its storage
    driver.execute_script("sessionStorage.clear(); localStorage.clear();")
    # the page itself is public; its API calls need the token, asked for once
    open_studio(driver, studio_server)
    caps = httpx.get(f"{studio_server}/capabilities", headers=AUTH).json()
    voices = [o.get_attribute("value") for o in
              by_id(driver, "opt-voice").find_elements("tag name", "option")]
    assert voices[1:] == caps["voices"]

    upload_three(driver, "trip", tmp_path)
    assert card_images(driver) == ["harbour_1.png", "boats_2.png", "night_3.png"]
    stored = httpx.get(f"{studio_server}/folders/trip/images", headers=AUTH).json()
    assert [i["name"] for i in stored["images"]] == ["boats_2.png", "harbour_1.png",
                                                      "night_3.png"]
    wait(lambda: all(driver.execute_script("return arguments[0].naturalWidth", img) > 0
                     for img in driver.find_elements("css selector", "img.thumb")),
         message="thumbnails")

    # drag the last card onto the first: night, harbour, boats
    driver.execute_script("""
        const items = document.querySelectorAll('#scenes > li.scene');
        const dt = new DataTransfer();
        items[2].dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
        items[0].dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true,
                                                           cancelable: true}));
        items[0].dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,
                                                       cancelable: true}));""")
    assert card_images(driver) == ["night_3.png", "harbour_1.png", "boats_2.png"]
    # and by keyboard: "Move down" on the first card keeps the focus on the moved card
    first_down = cards(driver)[0].find_element("css selector", ".move-down")
    first_down.send_keys("\n")
    assert card_images(driver) == ["harbour_1.png", "night_3.png", "boats_2.png"]
    focused = driver.switch_to.active_element
    assert focused.get_attribute("aria-label") == "Move scene 2 down"

    narrations = ["A quiet harbour at dawn.", "Night falls over the sea.",
                  "The boats come home one after another, their lights swaying on the "
                  "dark water, while the last gulls circle above the old stone pier."]
    for card, text, action in zip(cards(driver), narrations,
                                  ["zoom in, pan left", "slow pan right", "zoom out"],
                                  strict=True):
        set_value(card.find_element("css selector", "textarea.narration"), text)
        set_value(card.find_element("css selector", "input.duration"), "2.5")
        set_value(card.find_element("css selector", "input.clip"), action)
    hints = [c.find_element("css selector", ".hints").text for c in cards(driver)]
    assert "A 2.5 s clip keeps 1 movement (zoom in); pan left will be dropped." in hints[0]
    assert "(estimated)" in hints[2] and "extended to" in hints[2]

    # "Hear narration": spoken by the server, its measured length replaces the estimate
    cards(driver)[0].find_element("css selector", "button.hear").click()
    audio = cards(driver)[0].find_element("css selector", "audio.preview-audio")
    wait(lambda: audio.is_displayed(), message="narration audio")
    wait(lambda: "(measured)" in cards(driver)[0].find_element("css selector", ".hints").text,
         message="measured narration")
    spoken = httpx.post(f"{studio_server}/narration/preview", headers=AUTH,
                        json={"text": narrations[0]})
    seconds = float(spoken.headers["X-Narration-Duration"])
    assert f"Narration {round(seconds, 2):g} s (measured)" in \
        cards(driver)[0].find_element("css selector", ".hints").text

    # a scene option that takes a point of the picture (the framing branch's `focus`):
    # clicking the thumbnail's centre sets it
    points = driver.execute_async_script("""
        const [schema, done] = arguments;
        import('/studio/fields.js').then((f) => done(Object.entries(schema)
          .filter(([, s]) => f.acceptsPoint(s)).map(([n]) => n)));""",
        caps["request_schemas"]["Scene"]["properties"])
    for name in points:
        thumb = cards(driver)[0].find_element("css selector", "img.thumb")
        driver.execute_script("""
            const img = arguments[0]; const r = img.getBoundingClientRect();
            img.dispatchEvent(new MouseEvent('click', {bubbles: true,
              clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));""", thumb)
        control = cards(driver)[0].find_element("css selector", f'[data-key="{name}"]')
        assert json.loads(control.get_attribute("value")) == [0.5, 0.5]

    # a bad duration: the server's error appears next to that field, no job starts
    bad = cards(driver)[1].find_element("css selector", "input.duration")
    set_value(bad, "-1")
    by_id(driver, "render").click()
    error = cards(driver)[1].find_element("css selector", '.field-error[data-key="duration"]')
    wait(lambda: error.text, message="field error")
    assert "sequence_data[1].duration" in error.text and "greater than 0" in error.text
    assert bad.get_attribute("aria-invalid") == "true"
    assert by_id(driver, "progress-text").text.startswith("Not started")
    set_value(bad, "2.5")
    assert not error.text

    # render: the progress bar advances with the job's events
    by_id(driver, "render").click()
    seen: list[tuple[float, str]] = []
    deadline = time.monotonic() + 120
    while by_id(driver, "result").get_attribute("hidden") is not None:
        value = float(by_id(driver, "progress").get_attribute("value"))
        text = by_id(driver, "progress-text").text
        if not seen or seen[-1] != (value, text):
            seen.append((value, text))
        assert time.monotonic() < deadline, seen[-5:]
        assert "failed" not in text, text
        time.sleep(0.02)
    values = [v for v, _ in seen]
    assert values == sorted(values), seen
    assert len({v for v in values if 0 < v < 100}) >= 2, seen  # live, not just 0 then 100
    assert any("render" in t for _, t in seen), seen
    assert float(by_id(driver, "progress").get_attribute("value")) == 100

    # the result plays, with its duration and captions
    video = by_id(driver, "video")
    job_id = video.get_attribute("data-job")
    job = httpx.get(f"{studio_server}/jobs/{job_id}", headers=AUTH).json()
    assert job["status"] == "succeeded"
    wait(lambda: driver.execute_script("return arguments[0].readyState >= 1", video),
         message="video metadata")
    duration = driver.execute_script("return arguments[0].duration", video)
    assert abs(duration - job["result"]["metadata"]["duration"]) < 0.1
    driver.execute_script("arguments[0].muted = true; arguments[0].play();", video)
    wait(lambda: driver.execute_script("return arguments[0].currentTime", video) > 0.5,
         message="playback")
    driver.execute_script("arguments[0].textTracks[0].mode = 'hidden'", video)
    wait(lambda: driver.execute_script(
        "const t = arguments[0].textTracks[0]; return t.cues && t.cues.length", video),
         message="caption cues")
    cues = driver.execute_script(
        "return Array.from(arguments[0].textTracks[0].cues).map((c) => c.text)", video)
    assert any("harbour" in c for c in cues), cues
    links = driver.find_elements("css selector", "#downloads a")
    assert [a.text for a in links][:3] == ["Download MP4 video", "Download SRT captions",
                                           "Download WebVTT captions"]
    assert all(a.get_attribute("href").startswith("blob:") for a in links)  # fetched with token
    warnings = by_id(driver, "warnings").text
    assert "dropped movement(s) pan left" in warnings
    wait(lambda: "succeeded" in by_id(driver, "jobs").text, message="earlier jobs")

    # nothing secret in a URL: not in the page's, nor in any the page fetched
    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("/jobs/" in u for u in fetched) and any("/media/" in u for u in fetched)
    assert not [u for u in [driver.current_url, *fetched] if TOKEN in u]
    assert not js_errors(driver)

    # "Save script" downloads the request body the API takes, in the cards' order
    saved = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const make = URL.createObjectURL;
        URL.createObjectURL = (blob) => { URL.createObjectURL = make;
                                          blob.text().then(done); return make(blob); };
        document.getElementById('save-script').click();""")
    script = json.loads(saved)
    assert [s["scene_number"] for s in script["sequence_data"]] == [1, 3, 2]
    assert [s["narration"] for s in script["sequence_data"]] == narrations
    assert {s["duration"] for s in script["sequence_data"]} == {2.5}
    assert script["generation_params"]["transition_type"] == "crossfade"
    structure_request(script)  # the API's own converter takes it
    validate_request(script)

    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(screenshot_dir / "studio-1440.png"))
    driver.execute_script("document.getElementById('result').scrollIntoView()")
    driver.save_screenshot(str(screenshot_dir / "studio-1440-result.png"))
    driver.set_window_size(375, 900)
    time.sleep(0.3)
    driver.execute_script("window.scrollTo(0, 0)")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    assert width <= inner, (width, inner)  # no sideways scrolling on a phone
    driver.save_screenshot(str(screenshot_dir / "studio-375.png"))
    driver.execute_script("document.querySelector('#scenes > li').scrollIntoView()")
    driver.save_screenshot(str(screenshot_dir / "studio-375-scene.png"))
    driver.set_window_size(1440, 1000)
    for name, size in (("studio-1440.png", 1440), ("studio-375.png", 375)):
        with Image.open(screenshot_dir / name) as shot:
            assert abs(shot.width - size) <= 20, (name, shot.size)


def test_load_a_script_and_cancel_a_render(browser: Any, studio_server: str,
                                           tmp_path: Path) -> None:
    driver = browser
    open_studio(driver, studio_server)
    upload_three(driver, "long", tmp_path)
    script = {
        "sequence_data": [
            {"scene_number": 3, "narration": "Night.", "duration": 20, "clip_action": "zoom in"},
            {"scene_number": 1, "narration": "Harbour.", "duration": 20},
            {"scene_number": 2, "narration": "Boats.", "duration": 20, "music_mood": "calm"},
        ],
        "generation_params": {"transition_type": "fade", "seed": 5},
    }
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    by_id(driver, "load-script").send_keys(str(path))
    wait(lambda: card_images(driver) == ["night_3.png", "harbour_1.png", "boats_2.png"],
         message="loaded script")
    assert by_id(driver, "opt-transition_type").get_attribute("value") == "fade"
    assert by_id(driver, "opt-seed").get_attribute("value") == "5"

    by_id(driver, "render").click()
    wait(lambda: "running" in by_id(driver, "progress-text").text, timeout=60,
         message="running job")
    job_id = by_id(driver, "progress").get_attribute("data-job")
    request = httpx.get(f"{studio_server}/jobs/{job_id}", headers=AUTH).json()
    assert request["scenes_total"] == 3
    by_id(driver, "cancel").click()
    wait(lambda: "cancelled" in by_id(driver, "progress-text").text, timeout=60,
         message="cancelled")
    assert httpx.get(f"{studio_server}/jobs/{job_id}", headers=AUTH).json()["status"] \
        == "cancelled"
    assert by_id(driver, "result").get_attribute("hidden") is not None \
        or by_id(driver, "video").get_attribute("data-job") != job_id
    assert by_id(driver, "render").is_enabled()
    assert not js_errors(driver)


def test_api_fields_the_page_does_not_know_get_typed_controls(browser: Any,
                                                              studio_server: str) -> None:
    """Options other branches add to the API (aspect ratio, caption style...) appear as
    controls built from their schema, and their values go back with their JSON type."""
    open_studio(browser, studio_server)
    got = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/studio/fields.js').then((f) => {
          const schemas = {
            aspect_ratio: {enum: ['16:9', '9:16', '1:1']},
            quality: {type: ['integer', 'null'], enum: [1, 2, null]},
            burn: {type: 'boolean'},
            width: {type: 'integer', minimum: 16, maximum: 8192},
            caption_style: {type: ['string', 'null'], examples: ['bold', 'boxed']},
            focus: {type: 'object'},
          };
          const out = {};
          for (const [name, schema] of Object.entries(schemas)) {
            const wrap = f.extraControl(name, schema, 'x-' + name, 'param', {});
            document.body.append(wrap);
            const control = wrap.querySelector('[data-param]');
            const label = wrap.querySelector('label');
            out[name] = {tag: control.tagName, type: control.type, kind: control.dataset.kind,
                         labelled: control.labels.length === 1 && label.htmlFor === control.id,
                         options: control.tagName === 'SELECT'
                           ? [...control.options].map((o) => o.textContent) : null,
                         empty: f.extraValue(control) === undefined};
            const values = {aspect_ratio: '9:16', quality: 2, burn: false, width: 640,
                            caption_style: 'bold', focus: {x: 0.5, y: 0.25}};
            f.setExtraValue(control, values[name]);
            out[name].value = f.extraValue(control);
            wrap.remove();
          }
          out.point = {
            focus: f.acceptsPoint({oneOf: [{enum: ['auto', 'center']}, {type: 'array',
              items: {type: 'number', minimum: 0, maximum: 1}, minItems: 2, maxItems: 2}]}),
            plain: f.acceptsPoint({type: 'array', items: {type: 'number'}}),
            // a 200x100 picture in a 100x100 box (cover): only its middle half shows
            centre: f.pointInCover(100, 100, 200, 100, 50, 50),
            left: f.pointInCover(100, 100, 200, 100, 0, 0),
            right: f.pointInCover(100, 100, 200, 100, 100, 100),
          };
          const wrap = f.extraControl('focus', {enum: ['auto', 'center']}, 'x-f', 'key', {});
          document.body.append(wrap);
          const select = wrap.querySelector('select');
          f.setExtraValue(select, [0.25, 0.75]);
          out.point.value = f.extraValue(select);
          out.point.label = select.selectedOptions[0].textContent;
          wrap.remove();
          done(out);
        });""")
    point = got.pop("point")
    assert point["focus"] is True and point["plain"] is False
    assert point["centre"] == [0.5, 0.5]
    assert point["left"] == [0.25, 0.0] and point["right"] == [0.75, 1.0]
    assert point["value"] == [0.25, 0.75] and point["label"] == "point 0.25, 0.75"
    assert got["aspect_ratio"]["tag"] == "SELECT"
    assert got["aspect_ratio"]["options"] == ["(server default)", "16:9", "9:16", "1:1"]
    assert got["aspect_ratio"]["value"] == "9:16"
    assert got["quality"]["options"] == ["(server default)", "1", "2"]
    assert got["quality"]["value"] == 2  # a number, not "2"
    assert got["burn"]["options"] == ["(server default)", "true", "false"]
    assert got["burn"]["value"] is False
    assert (got["width"]["type"], got["width"]["value"]) == ("number", 640)
    assert (got["caption_style"]["type"], got["caption_style"]["value"]) == ("text", "bold")
    assert got["focus"]["kind"] == "json"
    assert got["focus"]["value"] == {"x": 0.5, "y": 0.25}
    assert all(v["labelled"] and v["empty"] for v in got.values()), got


def test_every_control_is_labelled_and_every_api_field_has_one(browser: Any,
                                                               studio_server: str,
                                                               tmp_path: Path) -> None:
    driver = browser
    open_studio(driver, studio_server)
    if not cards(driver):
        upload_three(driver, "labels", tmp_path)
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea, audio, video')]
          .filter((c) => !(c.type === 'file' && c.classList.contains('visually-hidden')
                           && c.labels.length))
          .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                          && !c.closest('template'))
          .map((c) => c.outerHTML.slice(0, 80));""")
    assert unlabelled == []
    caps = httpx.get(f"{studio_server}/capabilities", headers=AUTH).json()
    handled = {"transition_type", "transition_duration", "seed", "fps", "voice", "callback_url"}
    for name in set(caps["request_schemas"]["GenerationParams"]["properties"]) - handled:
        assert driver.find_elements("css selector", f'[data-param="{name}"]'), name
    scene_fields = {"scene_number", "narration", "duration", "clip_action", "music_mood"}
    for name in set(caps["request_schemas"]["Scene"]["properties"]) - scene_fields:
        for card in cards(driver):
            assert card.find_elements("css selector", f'[data-key="{name}"]'), name
    # keyboard: every button can take the focus (no tabindex=-1 traps), Tab reaches Render
    assert driver.execute_script(
        "return [...document.querySelectorAll('button')].every((b) => b.tabIndex >= 0)")


def test_a_wrong_token_is_asked_for_again(browser: Any, studio_server: str) -> None:
    driver = browser
    driver.get(f"{studio_server}/healthz")
    driver.execute_script("sessionStorage.setItem('videogen.studio.token', 'wrong')")
    driver.get(f"{studio_server}/")
    dialog = by_id(driver, "token-dialog")
    wait(lambda: dialog.get_attribute("open") is not None, message="token dialog")
    assert by_id(driver, "token-error").text == "The server did not accept the token."
    assert driver.switch_to.active_element == by_id(driver, "token-input")
    by_id(driver, "token-input").clear()
    by_id(driver, "token-input").send_keys(TOKEN + "\n")  # Enter saves
    wait(lambda: driver.execute_script("return document.body.dataset.ready === 'true'"),
         message="connected")
    assert dialog.get_attribute("open") is None
    assert driver.execute_script("return sessionStorage.getItem('videogen.studio.token')") \
        == TOKEN
    assert driver.execute_script("return localStorage.getItem('videogen.studio.token')") is None
