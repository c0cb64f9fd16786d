// videogen Studio: make a video from photos through the public HTTP API.
//
// One card per image; the order of the cards is the order of the scenes. The
// server gives scene N the image whose file name ends in N (else the N-th image
// in natural order), so every card's scene_number is the number that picks its
// image: new uploads are stored as "<name>_<n>.<ext>" with a fresh n, and the
// request lists the scenes in card order. Nothing is renamed on the server.

import * as api from "./api.js";
import {
  acceptsPoint, el, extraControl, extraValue, fillSelect, pointInCover, setExtraValue,
} from "./fields.js";
import { nextImageNumber, numbersOfImages, sceneHints } from "./rules.js";

const JOBS_KEY = "videogen.studio.jobs";
const FOLDER_KEY = "videogen.studio.folder";
const SCENE_FIELDS = new Set(["scene_number", "narration", "duration", "clip_action", "music_mood"]);
const PARAM_FIELDS = new Set(["transition_type", "transition_duration", "seed", "fps", "voice",
  "callback_url"]);
const CLIP_SUGGESTIONS = ["slow zoom in", "zoom out", "pan left", "pan right", "pan up", "pan down",
  "tilt up", "tilt down", "static", "gentle zoom in, pan right", "fast pan left"];

const $ = (id) => document.getElementById(id);
const state = {
  caps: null,
  folder: "",
  listing: [], // image names of the folder, in the server's natural order
  keys: new Map(), // name -> storage key
  cards: [],
  nextUid: 1,
  job: null, // {id, abort: AbortController}
  resultUrls: [],
  dragUid: null,
};

// ------------------------------------------------------------------ errors
function showError(message) {
  const box = $("global-error");
  box.textContent = message;
  box.hidden = !message;
}

function clearFieldErrors() {
  for (const p of document.querySelectorAll(".field-error")) p.textContent = "";
  for (const c of document.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  showError("");
}

/** Put an API error next to the field its details.field names (or at the top). */
function reportError(exc, prefix = "") {
  if (!(exc instanceof api.ApiError)) {
    showError(String(exc && exc.message ? exc.message : exc));
    return;
  }
  if (exc.status === 401) {
    openTokenDialog("The server did not accept the token.");
    return;
  }
  let field = exc.field;
  if (prefix && field) field = `${prefix}${field}`;
  const message = exc.code === "busy" && exc.details.retry_after
    ? `${exc.message} (retry in ${exc.details.retry_after} s)` : exc.message;
  const scene = field.match(/^sequence_data\[(\d+)\](?:\.(\w+))?/);
  let target = null;
  let control = null;
  if (scene) {
    const card = state.cards[Number(scene[1])];
    const li = card && document.querySelector(`li[data-uid="${card.uid}"]`);
    if (li) {
      const key = scene[2] || "scene_number";
      target = li.querySelector(`.field-error[data-key="${key}"]`) ||
        li.querySelector('.field-error[data-key="scene_number"]');
      control = li.querySelector(`[data-key="${key}"]:not(.field-error)`);
    }
  } else if (field) {
    target = document.querySelector(`.field-error[data-field="${CSS.escape(field)}"]`);
    const param = field.startsWith("generation_params.") ? field.slice(18) : "";
    control = param ? document.querySelector(`[data-param="${CSS.escape(param)}"]`) : null;
    if (field === "folder_id") control = $("folder");
  }
  if (target) {
    target.textContent = message;
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
  } else {
    showError(message);
  }
}

function setStatus(id, text) {
  $(id).textContent = text;
}

// ------------------------------------------------------------------ token
function openTokenDialog(message = "") {
  $("token-error").textContent = message;
  $("token-input").value = api.getToken();
  const dialog = $("token-dialog");
  if (!dialog.open) dialog.showModal();
  $("token-input").focus();
}

function saveToken() {
  api.setToken($("token-input").value.trim());
  $("token-dialog").close();
  start();
}

// ------------------------------------------------------------------ capabilities
function applyCapabilities(caps) {
  const first = state.caps === null; // again (a new token): keep what the user chose
  state.caps = caps;
  const transition = $("opt-transition_type").value;
  fillSelect($("opt-transition_type"), caps.transitions,
    { selected: first || !caps.transitions.includes(transition) ? caps.default_transition : transition });
  const voice = $("opt-voice").value;
  fillSelect($("opt-voice"), caps.voices, {
    empty: caps.default_voice ? `server default (${caps.default_voice})` : "server default",
    selected: caps.voices.includes(voice) ? voice : "",
  });
  if (first) {
    $("opt-transition_duration").value = caps.transition_duration;
    $("opt-fps").value = caps.fps;
  }
  $("opt-fps").placeholder = String(caps.fps);
  const list = $("clip-suggestions");
  list.replaceChildren(...CLIP_SUGGESTIONS.map((s) => el("option", { value: s })));
  const extras = $("extra-options");
  const chosen = new Map([...extras.querySelectorAll("[data-param]")].map((c) => [c.dataset.param, extraValue(c)]));
  extras.replaceChildren();
  const params = (caps.request_schemas.GenerationParams || {}).properties || {};
  for (const [name, schema] of Object.entries(params)) {
    if (PARAM_FIELDS.has(name)) continue;
    const wrap = extraControl(name, schema, `opt-${name}`, "param",
      { "data-field": `generation_params.${name}` });
    const control = wrap.querySelector("[data-param]");
    setExtraValue(control, chosen.get(name));
    control.addEventListener("input", () => {
      control.removeAttribute("aria-invalid");
      wrap.querySelector(".field-error").textContent = "";
    });
    extras.append(wrap);
  }
  renderScenes();
}

// ------------------------------------------------------------------ folder and images
const imageNumbers = () => numbersOfImages(state.listing);
const nextNumber = (count) => nextImageNumber(state.listing, count);

function slug(name) {
  const base = name.split(/[\\/]/).pop();
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot).toLowerCase() : "";
  const clean = stem.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[.-]+/, "").slice(0, 60) || "image";
  const okExt = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"].includes(ext);
  return [clean, okExt ? ext : ""];
}

function folderName() {
  const value = $("folder").value.trim();
  $("folder-error").textContent = "";
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(value) || value.startsWith(".")) {
    $("folder-error").textContent = "Use 1–128 letters, digits, _ . - (not starting with a dot).";
    $("folder").setAttribute("aria-invalid", "true");
    $("folder").focus();
    return "";
  }
  $("folder").removeAttribute("aria-invalid");
  return value;
}

async function refreshListing() {
  const images = await api.listImages(state.folder);
  state.listing = images.map((im) => im.name);
  state.keys = new Map(images.map((im) => [im.name, im.key]));
}

async function thumbnail(card) {
  if (card.thumb || !card.image) return;
  const key = state.keys.get(card.image);
  if (!key) return;
  try {
    card.thumb = await api.mediaUrl(`/media/${key}`);
    const img = document.querySelector(`li[data-uid="${card.uid}"] img.thumb`);
    if (img) img.src = card.thumb;
  } catch (_) {
    // a missing thumbnail is not worth an error
  }
}

function newCard(image, fields = {}) {
  return {
    uid: state.nextUid++,
    image,
    number: null, // only for script scenes without an image
    thumb: null,
    narration: "",
    duration: 5,
    clip_action: "",
    music_mood: "",
    extra: {},
    measured: null, // {text, voice, seconds} from "Hear narration"
    ...fields,
  };
}

async function openFolder() {
  const folder = folderName();
  if (!folder) return;
  clearFieldErrors();
  state.folder = folder;
  localStorage.setItem(FOLDER_KEY, folder);
  setStatus("folder-status", `Opening ${folder}…`);
  try {
    await refreshListing();
  } catch (exc) {
    state.folder = "";
    reportError(exc);
    setStatus("folder-status", "");
    return;
  }
  for (const card of state.cards) if (card.thumb && card.thumb.startsWith("blob:")) URL.revokeObjectURL(card.thumb);
  const numbers = imageNumbers();
  state.cards = state.listing.filter((name) => numbers.get(name) !== null).map((name) => newCard(name));
  const skipped = state.listing.filter((name) => numbers.get(name) === null);
  let text = state.listing.length
    ? `${folder}: ${state.listing.length} image(s).`
    : `${folder} is a new folder: add images.`;
  if (skipped.length) {
    text += ` Left out, as the server cannot pick them by name (rename them to end in a number of their own): ${skipped.join(", ")}.`;
  }
  setStatus("folder-status", text);
  renderScenes();
  state.cards.forEach(thumbnail);
}

async function addFiles(fileList) {
  const files = [...fileList].filter((f) => f.type.startsWith("image/") || /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i.test(f.name));
  if (!files.length) return;
  if (!state.folder || $("folder").value.trim() !== state.folder) {
    await openFolder(); // the folder typed in is the one the images go to
    if (!state.folder || $("folder").value.trim() !== state.folder) return;
  }
  clearFieldErrors();
  let n = nextNumber(files.length);
  const added = [];
  for (const [i, file] of files.entries()) {
    setStatus("folder-status", `Uploading ${i + 1} of ${files.length}: ${file.name}…`);
    const [stem, ext] = slug(file.name);
    const name = `${stem}_${n}${ext}`;
    n += 1;
    try {
      const stored = await api.uploadImages(state.folder, [{ blob: file, name }]);
      const card = newCard(stored[0].name, { thumb: URL.createObjectURL(file) });
      added.push(card);
    } catch (exc) {
      reportError(exc);
      break;
    }
  }
  try {
    await refreshListing();
  } catch (exc) {
    reportError(exc);
  }
  state.cards.push(...added);
  setStatus("folder-status", `${state.folder}: ${state.listing.length} image(s); ${added.length} added.`);
  renderScenes();
}

// ------------------------------------------------------------------ scene cards
function cardHints(card, index) {
  const transition = $("opt-transition_type").value;
  const raw = $("opt-transition_duration").value;
  const length = raw === "" ? state.caps.transition_duration : Number(raw);
  const voice = $("opt-voice").value;
  const m = card.measured;
  const measured = m && m.text === card.narration.trim() && m.voice === voice ? m.seconds : null;
  return sceneHints(card, {
    index, count: state.cards.length, transition, transitionLength: length,
    caps: state.caps, narrationSeconds: measured,
  });
}

function updateHints() {
  if (!state.caps) return;
  state.cards.forEach((card, index) => {
    const li = document.querySelector(`li[data-uid="${card.uid}"]`);
    if (!li) return;
    const list = li.querySelector(".hints");
    list.replaceChildren(...cardHints(card, index).map((h) => el("li", { class: `hint ${h.kind}` }, h.text)));
  });
}

function sceneNumber(card, numbers) {
  if (card.image && numbers.has(card.image) && numbers.get(card.image) !== null) return numbers.get(card.image);
  return card.number;
}

function renderScenes(focus = null) {
  const list = $("scenes");
  const template = $("scene-template");
  const numbers = imageNumbers();
  list.replaceChildren();
  $("scenes-empty").hidden = state.cards.length > 0;
  const sceneSchema = state.caps ? (state.caps.request_schemas.Scene || {}).properties || {} : {};
  state.cards.forEach((card, index) => {
    const li = template.content.firstElementChild.cloneNode(true);
    li.dataset.uid = card.uid;
    const id = (k) => `scene-${card.uid}-${k}`;
    const number = sceneNumber(card, numbers);
    li.querySelector(".scene-heading").textContent = `Scene ${index + 1}`;
    let where = `${card.image} (scene_number ${number})`;
    if (!card.image) where = `No image in this folder for scene_number ${card.number}`;
    else if (number === null) where = `${card.image}: the server cannot pick it by name now; rename it to end in a number of its own`;
    li.querySelector(".image-name").textContent = where;
    const img = li.querySelector("img.thumb");
    img.alt = card.image ? `Image ${card.image}` : "no image";
    if (card.thumb) img.src = card.thumb;
    const bind = (selector, labelSel, key) => {
      const control = li.querySelector(selector);
      control.id = id(key);
      li.querySelector(labelSel).setAttribute("for", control.id);
      control.value = card[key];
      control.setAttribute("aria-describedby", id("hints"));
      control.addEventListener("input", () => {
        card[key] = control.value;
        control.removeAttribute("aria-invalid");
        li.querySelector(`.field-error[data-key="${key}"]`).textContent = "";
        updateHints();
      });
      return control;
    };
    bind(".narration", ".l-narration", "narration");
    bind(".duration", ".l-duration", "duration");
    bind(".clip", ".l-clip", "clip_action");
    const mood = li.querySelector(".mood");
    const moods = state.caps ? state.caps.moods : [];
    fillSelect(mood, card.music_mood && !moods.includes(card.music_mood) ? [...moods, card.music_mood] : moods,
      { empty: "(none)", selected: card.music_mood });
    bind(".mood", ".l-mood", "music_mood");
    li.querySelector(".hints").id = id("hints");
    const extra = li.querySelector(".scene-extra");
    for (const [name, schema] of Object.entries(sceneSchema)) {
      if (SCENE_FIELDS.has(name)) continue;
      const wrap = extraControl(name, schema, id(name), "key", { "data-key": name });
      const control = wrap.querySelector("[data-key]");
      setExtraValue(control, card.extra[name]);
      if (acceptsPoint(schema) && card.image) { // click the picture to pick the point
        img.classList.add("pick-point");
        img.title = `Click to set ${name} to a point of the picture`;
        img.addEventListener("click", (e) => {
          if (!img.naturalWidth) return;
          const point = pointInCover(img.clientWidth, img.clientHeight, img.naturalWidth,
            img.naturalHeight, e.offsetX, e.offsetY);
          card.extra[name] = point;
          setExtraValue(control, point);
        });
      }
      control.addEventListener("input", () => { card.extra[name] = extraValue(control); });
      control.addEventListener("change", () => { card.extra[name] = extraValue(control); });
      extra.append(wrap);
    }
    const hear = li.querySelector(".hear");
    hear.setAttribute("aria-label", `Hear narration of scene ${index + 1}`);
    hear.addEventListener("click", () => hearNarration(card, li));
    const up = li.querySelector(".move-up");
    const down = li.querySelector(".move-down");
    up.disabled = index === 0;
    down.disabled = index === state.cards.length - 1;
    up.setAttribute("aria-label", `Move scene ${index + 1} up`);
    down.setAttribute("aria-label", `Move scene ${index + 1} down`);
    li.querySelector(".remove").setAttribute("aria-label", `Remove scene ${index + 1} from the video`);
    up.addEventListener("click", () => moveCard(index, index - 1, ".move-up"));
    down.addEventListener("click", () => moveCard(index, index + 1, ".move-down"));
    li.querySelector(".remove").addEventListener("click", () => {
      state.cards.splice(index, 1);
      const next = state.cards[Math.min(index, state.cards.length - 1)];
      renderScenes(next ? { uid: next.uid, selector: ".remove" } : null);
      if (!next) $("scenes-heading").focus();
      setStatus("folder-status", `Scene ${index + 1} removed from the video (its image stays in the folder).`);
    });
    li.addEventListener("dragstart", (e) => {
      if (e.target !== li) return;
      state.dragUid = card.uid;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/x-videogen-scene", String(card.uid));
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => li.classList.remove("dragging"));
    li.addEventListener("dragover", (e) => {
      if (state.dragUid === null) return;
      e.preventDefault();
      li.classList.add("drop-target");
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
    li.addEventListener("drop", (e) => {
      if (state.dragUid === null) return;
      e.preventDefault();
      e.stopPropagation();
      const from = state.cards.findIndex((c) => c.uid === state.dragUid);
      state.dragUid = null;
      if (from >= 0 && from !== index) moveCard(from, index, null);
      else renderScenes();
    });
    list.append(li);
  });
  updateHints();
  if (focus) {
    const target = document.querySelector(`li[data-uid="${focus.uid}"] ${focus.selector}`);
    if (target && !target.disabled) target.focus();
    else if (target) target.closest("li").querySelector("button:not([disabled])").focus();
  }
}

function moveCard(from, to, selector) {
  if (to < 0 || to >= state.cards.length) return;
  const [card] = state.cards.splice(from, 1);
  state.cards.splice(to, 0, card);
  renderScenes(selector ? { uid: card.uid, selector } : null);
  setStatus("folder-status", `Scene moved to position ${to + 1}.`);
}

async function hearNarration(card, li) {
  const text = card.narration.trim();
  const error = li.querySelector('.field-error[data-key="narration"]');
  error.textContent = "";
  if (!text) {
    error.textContent = "Write the narration first.";
    return;
  }
  const button = li.querySelector(".hear");
  button.disabled = true;
  button.textContent = "Speaking…";
  const voice = $("opt-voice").value;
  try {
    const preview = await api.previewNarration(text, voice);
    card.measured = { text, voice, seconds: preview.duration };
    const audio = li.querySelector(".preview-audio");
    if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
    audio.src = preview.url;
    audio.hidden = false;
    audio.play().catch(() => {});
    updateHints();
  } catch (exc) {
    if (exc instanceof api.ApiError && exc.field === "text") error.textContent = exc.message;
    else if (exc instanceof api.ApiError && exc.field === "voice") reportError(exc, "generation_params.");
    else reportError(exc);
  } finally {
    button.disabled = false;
    button.textContent = "Hear narration";
  }
}

// ------------------------------------------------------------------ the request
function numberOrRaw(raw) {
  const text = String(raw).trim();
  if (text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function requestBody() {
  const numbers = imageNumbers();
  const sequence = state.cards.map((card) => {
    const scene = { scene_number: sceneNumber(card, numbers), duration: numberOrRaw(card.duration) };
    if (card.narration.trim()) scene.narration = card.narration;
    if (card.clip_action.trim()) scene.clip_action = card.clip_action.trim();
    if (card.music_mood) scene.music_mood = card.music_mood;
    for (const [k, v] of Object.entries(card.extra)) if (v !== undefined) scene[k] = v;
    return scene;
  });
  const params = { transition_type: $("opt-transition_type").value };
  const seed = numberOrRaw($("opt-seed").value);
  if (seed !== null) params.seed = seed;
  const fps = numberOrRaw($("opt-fps").value);
  if (fps !== null) params.fps = fps;
  const length = numberOrRaw($("opt-transition_duration").value);
  if (length !== null) params.transition_duration = length;
  if ($("opt-voice").value) params.voice = $("opt-voice").value;
  for (const control of $("extra-options").querySelectorAll("[data-param]")) {
    const v = extraValue(control);
    if (v !== undefined) params[control.dataset.param] = v;
  }
  return { sequence_data: sequence, generation_params: params };
}

function saveScript() {
  const body = requestBody();
  const blob = new Blob([JSON.stringify(body, null, 2) + "\n"], { type: "application/json" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `${state.folder || "script"}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function loadScript(file) {
  clearFieldErrors();
  let body;
  try {
    body = JSON.parse(await file.text());
  } catch (exc) {
    showError(`${file.name} is not JSON: ${exc.message}`);
    return;
  }
  if (!body || !Array.isArray(body.sequence_data)) {
    showError(`${file.name} has no "sequence_data" list.`);
    return;
  }
  const numbers = imageNumbers();
  const byNumber = new Map([...numbers].filter(([, n]) => n !== null).map(([name, n]) => [n, name]));
  const known = state.cards.reduce((m, c) => m.set(c.image, c), new Map());
  state.cards = body.sequence_data.map((scene) => {
    const image = byNumber.get(scene.scene_number) || null;
    const extra = {};
    for (const [k, v] of Object.entries(scene)) if (!SCENE_FIELDS.has(k)) extra[k] = v;
    return newCard(image, {
      number: scene.scene_number,
      thumb: image && known.get(image) ? known.get(image).thumb : null,
      narration: scene.narration || "",
      duration: scene.duration ?? "",
      clip_action: scene.clip_action || "",
      music_mood: scene.music_mood || "",
      extra,
    });
  });
  const params = body.generation_params || {};
  for (const control of document.querySelectorAll("[data-param]")) {
    const name = control.dataset.param;
    if (!(name in params) || params[name] === null) continue;
    if (control.dataset.kind) {
      setExtraValue(control, params[name]);
      continue;
    }
    const text = String(params[name]);
    if (control.tagName === "SELECT" && ![...control.options].some((o) => o.value === text)) {
      control.append(el("option", { value: text }, text)); // e.g. a voice this server lacks
    }
    control.value = text;
  }
  renderScenes();
  state.cards.forEach(thumbnail);
  const missing = state.cards.filter((c) => !c.image).length;
  setStatus("folder-status", `Loaded ${file.name}: ${state.cards.length} scene(s)` +
    (missing ? `, ${missing} without an image in ${state.folder || "this folder"}.` : "."));
}

// ------------------------------------------------------------------ jobs
function rememberJob(id, folder, scenes) {
  const jobs = JSON.parse(localStorage.getItem(JOBS_KEY) || "[]").filter((j) => j.id !== id);
  jobs.unshift({ id, folder, at: new Date().toISOString(), scenes });
  localStorage.setItem(JOBS_KEY, JSON.stringify(jobs.slice(0, 20)));
}

async function renderJobs() {
  const jobs = JSON.parse(localStorage.getItem(JOBS_KEY) || "[]");
  const folders = [...new Set([localStorage.getItem(FOLDER_KEY), ...jobs.map((j) => j.folder)])];
  $("folder-list").replaceChildren(...folders.filter(Boolean).map((f) => el("option", { value: f })));
  const list = $("jobs");
  list.replaceChildren();
  if (!jobs.length) list.append(el("li", { class: "muted" }, "None yet."));
  for (const job of jobs) {
    const li = el("li");
    const when = new Date(job.at).toLocaleString();
    const label = el("span", {}, `${job.folder} · ${when} · `);
    const status = el("span", { class: "job-status" }, "…");
    li.append(label, status);
    list.append(li);
    api.getJob(job.id).then((data) => {
      status.textContent = data.status;
      if (data.status === "succeeded") {
        const show = el("button", { type: "button", class: "secondary small" }, "Show");
        show.setAttribute("aria-label", `Show the video of ${job.folder} from ${when}`);
        show.addEventListener("click", () => showResult(data, job.scenes));
        li.append(" ", show);
      }
    }).catch(() => { status.textContent = "gone"; });
  }
}

function progressText(job) {
  const parts = [job.status];
  if (job.stage) parts.push(job.stage);
  parts.push(`${Math.round(job.percent)} %`);
  if (job.scenes_total) parts.push(`scenes ${job.scenes_done}/${job.scenes_total}`);
  if (job.eta_seconds != null && job.status === "running") parts.push(`about ${Math.ceil(job.eta_seconds)} s left`);
  if (job.cancel_requested && job.status === "running") parts.push("cancelling…");
  return parts.join(" · ");
}

function showProgress(job) {
  $("progress").value = job.percent;
  $("progress").dataset.stage = job.stage || "";
  setStatus("progress-text", progressText(job));
}

async function render() {
  clearFieldErrors();
  if (!state.folder) {
    if (!folderName()) return;
    showError("Open the folder and add images first.");
    return;
  }
  if (!state.cards.length) {
    showError("Add at least one image.");
    return;
  }
  const body = requestBody();
  $("render").disabled = true;
  let jobId;
  try {
    jobId = await api.startJob(state.folder, body);
  } catch (exc) {
    $("render").disabled = false;
    reportError(exc);
    setStatus("progress-text", "Not started: see the error above.");
    return;
  }
  const numbers = imageNumbers();
  const images = new Map(state.cards.map((c) => [sceneNumber(c, numbers), c.image]));
  rememberJob(jobId, state.folder, body.sequence_data.map((sc) => [sc.scene_number, images.get(sc.scene_number) || ""]));
  const abort = new AbortController();
  state.job = { id: jobId, abort };
  $("progress").dataset.job = jobId;
  $("cancel").disabled = false;
  setStatus("progress-text", "queued");
  $("progress").value = 0;
  try {
    let status = null;
    try {
      status = await api.followJob(jobId, showProgress, abort.signal);
    } catch (exc) {
      if (exc.name === "AbortError") return;
    }
    // the final state (also when the stream broke off: poll until the job ends)
    let job = await api.getJob(jobId);
    while (!["succeeded", "failed", "cancelled"].includes(job.status)) {
      showProgress(job);
      await new Promise((r) => setTimeout(r, 1000));
      job = await api.getJob(jobId);
    }
    void status;
    showProgress(job);
    if (job.status === "succeeded") {
      await showResult(job, storedScenes(jobId));
    } else if (job.status === "failed") {
      reportError(new api.ApiError(500, job.error || { message: "the job failed" }));
      setStatus("progress-text", `failed: ${job.error ? job.error.message : ""}`);
    } else {
      setStatus("progress-text", "cancelled: nothing was stored.");
    }
  } catch (exc) {
    reportError(exc);
  } finally {
    state.job = null;
    $("render").disabled = false;
    $("cancel").disabled = true;
    renderJobs();
  }
}

async function cancel() {
  if (!state.job) return;
  $("cancel").disabled = true;
  setStatus("progress-text", "cancelling…");
  try {
    const job = await api.cancelJob(state.job.id);
    showProgress(job);
  } catch (exc) {
    reportError(exc);
  }
}

function storedScenes(jobId) {
  const entry = JSON.parse(localStorage.getItem(JOBS_KEY) || "[]").find((j) => j.id === jobId);
  return entry ? entry.scenes : null;
}

/** "scene 3: …" (the server counts by scene_number) → "Scene 2 (night_3.png): …". */
function explainWarning(text, scenes) {
  const found = text.match(/^scene (\d+): /);
  if (!found || !scenes) return text;
  const position = scenes.findIndex(([n]) => n === Number(found[1]));
  if (position < 0) return text;
  const image = scenes[position][1];
  return `Scene ${position + 1}${image ? ` (${image})` : ""}: ${text.slice(found[0].length)}`;
}

async function showResult(job, scenes = null) {
  const result = job.result;
  if (!result) return;
  for (const url of state.resultUrls) URL.revokeObjectURL(url);
  state.resultUrls = [];
  const keep = (url) => {
    if (url.startsWith("blob:")) state.resultUrls.push(url);
    return url;
  };
  const video = $("video");
  const videoPath = api.mediaPath(result.video_url, job.folder_id);
  const subtitles = (result.metadata && result.metadata.subtitles) || {};
  const links = [["MP4 video", videoPath, "mp4"]];
  if (subtitles.srt) links.push(["SRT captions", api.mediaPath(subtitles.srt, job.folder_id), "srt"]);
  if (subtitles.vtt) links.push(["WebVTT captions", api.mediaPath(subtitles.vtt, job.folder_id), "vtt"]);
  for (const [kind, url] of Object.entries(subtitles)) { // any other caption file the server makes
    if (kind !== "srt" && kind !== "vtt" && url) links.push([`${kind} captions`, api.mediaPath(url, job.folder_id), kind]);
  }
  const poster = result.metadata && result.metadata.poster_url;
  if (poster) links.push(["poster image", api.mediaPath(poster, job.folder_id), "poster"]);
  const urls = {};
  try {
    for (const [, path, kind] of links) urls[kind] = keep(await api.mediaUrl(path));
  } catch (exc) {
    reportError(exc);
    return;
  }
  $("captions").src = urls.vtt || "";
  if (urls.poster) video.poster = urls.poster;
  else video.removeAttribute("poster");
  video.src = urls.mp4;
  video.dataset.job = job.job_id;
  video.load();
  const meta = result.metadata || {};
  const made = meta.timestamp ? new Date(meta.timestamp).toLocaleString() : "";
  setStatus("result-info", `${job.folder_id}: ${meta.duration} s, ${meta.scenes} scene(s)${made ? `, made ${made}` : ""}.`);
  $("result-info").dataset.duration = meta.duration;
  const downloads = $("downloads");
  downloads.replaceChildren(...links.map(([label, path, kind]) => {
    const li = el("li");
    li.append(el("a", { href: urls[kind], download: path.split("/").pop(), class: `download-${kind}` }, `Download ${label}`));
    return li;
  }));
  const warnings = [...new Set([...(job.warnings || []), ...(meta.warnings || [])])];
  $("warnings-box").hidden = !warnings.length;
  $("warnings").replaceChildren(...warnings.map((w) => el("li", {}, explainWarning(w, scenes))));
  $("result").hidden = false; // last: the section shows once everything in it is set
  $("result").scrollIntoView({ block: "nearest" });
}

// ------------------------------------------------------------------ start
async function start() {
  setStatus("server-status", "Connecting…");
  try {
    const caps = await api.capabilities();
    applyCapabilities(caps);
    setStatus("server-status", `Connected: ${caps.voices.length} voice(s), ${caps.moods.length} mood(s).`);
    document.body.dataset.ready = "true";
  } catch (exc) {
    if (exc instanceof api.ApiError && exc.status === 401) {
      setStatus("server-status", "This server needs an API token.");
      openTokenDialog(api.getToken() ? "The server did not accept the token." : "");
      return;
    }
    setStatus("server-status", `Not connected: ${exc.message}`);
    return;
  }
  renderJobs();
  const folder = localStorage.getItem(FOLDER_KEY);
  if (folder && !$("folder").value) $("folder").value = folder;
}

function wire() {
  $("token-button").addEventListener("click", () => openTokenDialog());
  $("token-save").addEventListener("click", saveToken);
  $("token-cancel").addEventListener("click", () => $("token-dialog").close());
  $("token-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      saveToken();
    }
  });
  $("folder-open").addEventListener("click", openFolder);
  $("folder").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      openFolder();
    }
  });
  $("file-input").addEventListener("change", (e) => {
    addFiles(e.target.files).finally(() => { e.target.value = ""; });
  });
  const zone = $("drop-zone");
  for (const target of [zone, $("scenes")]) {
    target.addEventListener("dragover", (e) => {
      if (!e.dataTransfer.types.includes("Files")) return;
      e.preventDefault();
      zone.classList.add("over");
    });
    target.addEventListener("dragleave", () => zone.classList.remove("over"));
    target.addEventListener("drop", (e) => {
      if (!e.dataTransfer.types.includes("Files")) return;
      e.preventDefault();
      zone.classList.remove("over");
      addFiles(e.dataTransfer.files);
    });
  }
  for (const id of ["opt-transition_type", "opt-transition_duration", "opt-voice"]) {
    $(id).addEventListener("input", updateHints);
    $(id).addEventListener("change", updateHints);
  }
  for (const control of document.querySelectorAll("#options [data-param]")) {
    control.addEventListener("input", () => {
      control.removeAttribute("aria-invalid");
      const error = document.querySelector(`.field-error[data-field="generation_params.${control.dataset.param}"]`);
      if (error) error.textContent = "";
    });
  }
  $("render").addEventListener("click", render);
  $("cancel").addEventListener("click", cancel);
  $("save-script").addEventListener("click", saveScript);
  $("load-script").addEventListener("change", (e) => {
    if (e.target.files[0]) loadScript(e.target.files[0]).finally(() => { e.target.value = ""; });
  });
}

wire();
start();
