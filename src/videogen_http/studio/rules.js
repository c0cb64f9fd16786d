// The server's rules, for live hints in the page (no I/O here).
//
// parseClipAction is a port of videogen_core.motion.parse_clip_action, and
// fitNarration of videogen_core.timeline.fit_narration; tests/browser runs
// both against the Python originals on the same inputs, so they cannot drift.
// The numbers (movement limits, lead-in, gap, speed-up cap, speech rate) come
// from GET /capabilities.

const SPEED_WORDS = {
  slow: "slow", slowly: "slow", gentle: "gentle", gently: "gentle",
  subtle: "gentle", subtly: "gentle", soft: "gentle", softly: "gentle",
  normal: "normal", steady: "normal", steadily: "normal",
  fast: "fast", quick: "quick", quickly: "quick", rapid: "fast", rapidly: "fast",
};
const CANONICAL = { push: "zoom", dolly: "zoom", pull: "zoom", truck: "pan" };
const VERBS = {
  zoom: ["in", { in: "in", out: "out", into: "in", back: "out" }],
  push: ["in", { in: "in" }],
  dolly: ["in", { in: "in", out: "out", back: "out" }],
  pull: ["out", { out: "out", back: "out" }],
  pan: ["right", { left: "left", right: "right", up: "up", down: "down" }],
  truck: ["right", { left: "left", right: "right" }],
  tilt: ["up", { up: "up", down: "down" }],
};
const FORMS = {
  zoom: ["zooms", "zooming"], pan: ["pans", "panning"], tilt: ["tilts", "tilting"],
  push: ["pushing"], pull: ["pulling"],
};
for (const [verb, forms] of Object.entries(FORMS)) {
  for (const form of forms) {
    VERBS[form] = VERBS[verb];
    CANONICAL[form] = CANONICAL[verb] || verb;
  }
}
const STATIC_WORDS = new Set(["static", "still", "locked", "hold", "fixed"]);
const JOINERS = new Set(["and", "then", "while", "also", "plus"]);
const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

function isMovementStart(tokens, i) {
  while (i < tokens.length && has(SPEED_WORDS, tokens[i])) i += 1;
  return i < tokens.length && (has(VERBS, tokens[i]) || STATIC_WORDS.has(tokens[i]));
}

function parseClause(tokens) {
  const movements = [];
  const rest = [];
  let pending = [];
  let afterMovement = false;
  let i = 0;
  while (i < tokens.length) {
    const word = tokens[i];
    if (has(VERBS, word) || STATIC_WORDS.has(word)) {
      const speed = pending.length ? SPEED_WORDS[pending[pending.length - 1]] : "normal";
      rest.push(...pending.slice(0, -1));
      pending = [];
      if (STATIC_WORDS.has(word)) {
        movements.push({ name: "static", speed });
      } else {
        const [fallback, directions] = VERBS[word];
        let direction = fallback;
        if (i + 1 < tokens.length && has(directions, tokens[i + 1])) {
          direction = directions[tokens[i + 1]];
          i += 1;
        }
        movements.push({ name: `${CANONICAL[word] || word} ${direction}`, speed });
      }
      afterMovement = true;
      i += 1;
      continue;
    }
    if (has(SPEED_WORDS, word)) {
      const last = movements[movements.length - 1];
      if (afterMovement && !isMovementStart(tokens, i + 1) && last.speed === "normal") {
        movements[movements.length - 1] = { name: last.name, speed: SPEED_WORDS[word] };
      } else {
        pending.push(word);
      }
      afterMovement = false;
      i += 1;
      continue;
    }
    if (JOINERS.has(word) && (afterMovement || isMovementStart(tokens, i + 1))) {
      i += 1;
      continue;
    }
    rest.push(...pending);
    pending = [];
    rest.push(word);
    afterMovement = false;
    i += 1;
  }
  rest.push(...pending);
  return [movements, rest];
}

/** A movement as the server writes it: "slow zoom in", "pan left". */
export function movementText(m) {
  return m.speed === "normal" ? m.name : `${m.speed} ${m.name}`;
}

/** Parse free text into {movements: [{name, speed}], description}. Never throws. */
export function parseClipAction(text) {
  const lowered = String(text).toLowerCase().replace(/[-_]/g, " ");
  const movements = [];
  const descriptions = [];
  for (const clause of lowered.split(/\s*[,;+&]\s*/)) {
    const tokens = clause.match(/[a-z0-9']+/g) || [];
    if (!tokens.length) continue;
    const [found, rest] = parseClause(tokens);
    movements.push(...found);
    if (rest.length) descriptions.push(rest.join(" "));
  }
  return { movements, description: descriptions.join(", ") };
}

/** Movements a clip of `duration` s keeps: the value of the smallest key >= duration. */
export function movementLimit(duration, limits) {
  const ordered = Object.entries(limits).map(([k, v]) => [Number(k), v]).sort((a, b) => a[0] - b[0]);
  for (const [key, limit] of ordered) {
    if (duration <= key) return limit;
  }
  return ordered[ordered.length - 1][1];
}

/** The transition overlap of a job: crossfades overlap, fades and cuts do not. */
export function overlap(transition, length, scenes) {
  return transition === "crossfade" && scenes > 1 ? length : 0;
}

/** Seconds of scene `index` that narration cannot use (incoming overlap, lead-in, gap). */
export function narrationLoss(index, ov, leadIn, gap) {
  return (index ? ov : 0) + leadIn + gap;
}

/** {speed, duration, extendedBy}: the server's fit_narration. */
export function fitNarration(sceneDuration, narrationLength, loss, maxSpeed) {
  const window = sceneDuration - loss;
  if (narrationLength <= 0 || narrationLength <= window) {
    return { speed: 1, duration: sceneDuration, extendedBy: 0 };
  }
  if (window > 0 && narrationLength / window <= maxSpeed) {
    return { speed: narrationLength / window, duration: sceneDuration, extendedBy: 0 };
  }
  const duration = narrationLength / maxSpeed + loss;
  return { speed: maxSpeed, duration, extendedBy: duration - sceneDuration };
}

/** Seconds a narration probably takes at `wordsPerSecond`. */
export function estimateSpeech(text, wordsPerSecond) {
  const words = (String(text).match(/\S+/g) || []).length;
  return words ? words / wordsPerSecond : 0;
}

/** The number an image's file stem ends in (what the server matches scene N with), or null. */
export function trailingNumber(name) {
  const base = name.split("/").pop();
  const stem = base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base;
  const found = stem.match(/(\d+)$/);
  return found ? Number(found[1]) : null;
}

/** The largest scene_number the server takes. */
export const MAX_SCENE_NUMBER = 1000000;

/**
 * scene_number of every image of a folder (`listing`: names in the server's natural
 * order) as a Map name -> number | null: the number its name ends in (the first image
 * in natural order wins, as on the server), else its position in the listing when no
 * image's name ends in that number; null when neither picks it.
 */
export function numbersOfImages(listing) {
  const trailing = listing.map(trailingNumber);
  const every = new Set(trailing.filter((n) => n !== null));
  const taken = new Set();
  const numbers = new Map();
  listing.forEach((name, i) => {
    const n = trailing[i];
    if (n !== null && n <= MAX_SCENE_NUMBER && !taken.has(n)) {
      taken.add(n);
      numbers.set(name, n);
    }
  });
  listing.forEach((name, i) => {
    if (numbers.has(name)) return;
    const position = i + 1;
    numbers.set(name, every.has(position) ? null : position);
  });
  return numbers;
}

/** The first number for `count` new uploads: above every image's number and, when some
 * image is picked by its position, above every position the listing will have. */
export function nextImageNumber(listing, count) {
  const numbers = listing.map(trailingNumber).filter((n) => n !== null && n <= MAX_SCENE_NUMBER);
  const unnumbered = numbers.length < listing.length;
  return Math.max(0, ...numbers, unnumbered ? listing.length + count : 0) + 1;
}

const fmt = (x) => (Math.round(x * 100) / 100).toString();

/**
 * Hints for one scene: [{kind: "info" | "warn" | "error", text}].
 * `scene` {duration, clip_action, narration}; `ctx` {index, count, transition,
 * transitionLength, caps (GET /capabilities), narrationSeconds (measured) or null}.
 */
export function sceneHints(scene, ctx) {
  const hints = [];
  const caps = ctx.caps;
  const d = Number(scene.duration);
  if (!(d > 0)) {
    hints.push({ kind: "error", text: "The duration must be a number of seconds above 0." });
    return hints;
  }
  if (d > caps.max_scene_duration) {
    hints.push({ kind: "error", text: `Scenes last at most ${caps.max_scene_duration} s.` });
  }
  const ov = overlap(ctx.transition, ctx.transitionLength, ctx.count);
  const neighbours = (ctx.index > 0 ? 1 : 0) + (ctx.index < ctx.count - 1 ? 1 : 0);
  if (ov > 0 && neighbours * ov >= d) {
    hints.push({ kind: "error",
      text: `Too short for ${neighbours} crossfade(s) of ${fmt(ov)} s.` });
  }
  const parsed = parseClipAction(scene.clip_action || "");
  const allowed = movementLimit(d, caps.movement_limits);
  const n = parsed.movements.length;
  if (n > allowed) {
    const kept = parsed.movements.slice(0, allowed).map(movementText);
    const dropped = parsed.movements.slice(allowed).map(movementText);
    hints.push({ kind: "warn",
      text: `A ${fmt(d)} s clip keeps ${allowed} movement${allowed === 1 ? "" : "s"}` +
        (kept.length ? ` (${kept.join(", ")})` : "") + `; ${dropped.join(", ")} will be dropped.` });
  } else if (n) {
    hints.push({ kind: "info",
      text: `Movements: ${parsed.movements.map(movementText).join(", ")} ` +
        `(a ${fmt(d)} s clip keeps up to ${allowed}).` });
  }
  const text = (scene.narration || "").trim();
  if (text) {
    const measured = ctx.narrationSeconds;
    const length = measured != null ? measured : estimateSpeech(text, caps.speech_rate.words_per_second);
    const how = measured != null ? "measured" : "estimated";
    const loss = narrationLoss(ctx.index, ov, caps.narration_lead_in, caps.narration_gap);
    const fit = fitNarration(d, length, loss, caps.max_speedup);
    if (fit.extendedBy > 1e-6) {
      hints.push({ kind: "warn",
        text: `Narration ${fmt(length)} s (${how}) is longer than the scene allows: ` +
          `sped up ×${fmt(fit.speed)} and the scene will be extended to ${fmt(fit.duration)} s.` });
    } else if (fit.speed > 1 + 1e-3) {
      hints.push({ kind: "warn",
        text: `Narration ${fmt(length)} s (${how}) will be sped up ×${fmt(fit.speed)} to fit.` });
    } else {
      hints.push({ kind: "info",
        text: `Narration ${fmt(length)} s (${how}) fits in ${fmt(d - loss)} s.` });
    }
  }
  return hints;
}
