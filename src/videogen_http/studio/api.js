// The public HTTP API, as the Studio uses it. The bearer token (when the server
// wants one) lives in sessionStorage for this tab only and travels in the
// Authorization header, never in a URL. EventSource cannot send that header,
// so job events are read with fetch() and a stream reader; media is fetched
// with the header into blob: URLs.

const TOKEN_KEY = "videogen.studio.token";

/** An API error: the server's JSON error envelope (or a network failure). */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "network_error";
    this.details = error.details || {};
  }

  /** The JSON path of the field the server complains about, or "". */
  get field() {
    return typeof this.details.field === "string" ? this.details.field : "";
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const out = { ...extra };
  const token = getToken();
  if (token) out.Authorization = `Bearer ${token}`;
  return out;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  const error = body && body.error ? body.error
    : { code: `http_${response.status}`, message: `${response.status} ${response.statusText}` };
  return new ApiError(response.status, error);
}

/** fetch() with the token; resolves to the Response when ok, else throws ApiError. */
export async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  } catch (exc) {
    throw new ApiError(0, { code: "network_error", message: `The server did not answer (${exc.message}).` });
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function postJson(path, body, extra = {}) {
  const response = await request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...extra },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

/** GET /capabilities */
export function capabilities() {
  return getJson("/capabilities");
}

/** GET /folders/<id>/images → [] for a folder that does not exist yet. */
export async function listImages(folder) {
  try {
    return (await getJson(`/folders/${encodeURIComponent(folder)}/images`)).images;
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 404) return [];
    throw exc;
  }
}

/** POST /folders/<id>/images with [{blob, name}] as multipart; the stored images. */
export async function uploadImages(folder, files) {
  const form = new FormData();
  for (const { blob, name } of files) form.append("image", blob, name);
  const response = await request(`/folders/${encodeURIComponent(folder)}/images`, {
    method: "POST", body: form,
  });
  return (await response.json()).images;
}

/** POST /narration/preview → {url (blob:), duration, voice}. */
export async function previewNarration(text, voice) {
  const response = await request("/narration/preview", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text, voice: voice || null }),
  });
  const blob = await response.blob();
  return {
    url: URL.createObjectURL(blob),
    duration: Number(response.headers.get("X-Narration-Duration")),
    voice: response.headers.get("X-Narration-Voice") || "",
  };
}

/** POST /generateVideos/<id> in async mode → the job id. */
export async function startJob(folder, body) {
  const { body: accepted } = await postJson(`/generateVideos/${encodeURIComponent(folder)}`, body,
    { Prefer: "respond-async" });
  return accepted.job_id;
}

export function getJob(jobId) {
  return getJson(`/jobs/${encodeURIComponent(jobId)}`);
}

export async function cancelJob(jobId) {
  return (await request(`/jobs/${encodeURIComponent(jobId)}`, { method: "DELETE" })).json();
}

/**
 * Follow GET /jobs/<id>/events: onJob(job) for every snapshot; resolves with the
 * final status once `event: end` arrives. `signal` aborts the stream.
 */
export async function followJob(jobId, onJob, signal) {
  const response = await request(`/jobs/${encodeURIComponent(jobId)}/events`, {
    headers: { Accept: "text/event-stream" }, signal,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null; // the stream broke off before the end: the caller polls
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer[newline] === "\r" ? 2 : 1));
      if (line === "") {
        if (data.length) {
          const payload = JSON.parse(data.join("\n"));
          if (event === "end") {
            reader.cancel().catch(() => {});
            return payload.status;
          }
          onJob(payload);
        }
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        // keep-alive comment
      } else if (line.startsWith("event:")) {
        event = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

/**
 * The /media path of a stored file: the server's own media URL becomes a path on
 * this origin; another storage's URL (S3, GCS) is mapped to the same key, which
 * /media serves from any backend.
 */
export function mediaPath(url, folder) {
  const parsed = new URL(url, window.location.href);
  if (parsed.pathname.startsWith("/media/")) return parsed.pathname;
  const name = parsed.pathname.split("/").pop();
  return `/media/${encodeURIComponent(folder)}/videos/${name}`;
}

/** A URL the page may load `path` from: the path itself, or (with a token) a blob: URL. */
export async function mediaUrl(path) {
  if (!getToken()) return path;
  const response = await request(path);
  return URL.createObjectURL(await response.blob());
}
