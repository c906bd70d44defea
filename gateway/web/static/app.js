// The upload page: sends files with a progress bar each, keeps the list of uploads and the
// processors current, filters by name, searches the texts and shows one upload's text.
// Everything shown goes through textContent, so names and texts are never read as HTML.
"use strict";

const COLUMNS = ["id", "path", "size", "state", "lines", "converter", "error", "received_at"];
const POLL_MS = 1000;
const HEALTH_MS = 5000;
const JSON_ACCEPT = { Accept: "application/json" };

const byId = (id) => document.getElementById(id);
let pollTimer = null;
let latestPoll = 0;

function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text !== undefined) {
    made.textContent = text;
  }
  if (className) {
    made.className = className;
  }
  return made;
}

function plain(value) {
  return value === null || value === undefined ? "" : String(value);
}

async function errorOf(response) {
  try {
    return (await response.json()).error || response.statusText;
  } catch (error) {
    return response.statusText;
  }
}

// The list of uploads.

function textLink(upload) {
  const link = element("a", "text");
  link.href = "api/uploads/" + encodeURIComponent(upload.id) + "/text";
  link.addEventListener("click", (event) => {
    event.preventDefault();
    showText(upload.id, upload.path);
  });
  return link;
}

function renderRows(uploads) {
  const rows = uploads.map((upload) => {
    const row = element("tr", undefined, "state-" + plain(upload.state));
    for (const column of COLUMNS) {
      row.appendChild(element("td", plain(upload[column])));
    }
    const action = element("td");
    if (upload.state === "processed") {
      action.appendChild(textLink(upload));
    }
    row.appendChild(action);
    return row;
  });
  document.querySelector("#uploads tbody").replaceChildren(...rows);
}

async function refresh() {
  clearTimeout(pollTimer);
  const poll = ++latestPoll;
  const params = new URLSearchParams({ limit: "50" });
  const name = byId("filter").elements.name.value.trim();
  if (name) {
    params.set("name", name);
  }
  try {
    const response = await fetch("api/uploads?" + params, { headers: JSON_ACCEPT });
    // Only the newest poll shows its list (an older one may hold an older filter's).
    if (response.ok && poll === latestPoll) {
      renderRows((await response.json()).uploads);
    }
  } catch (error) {
    // The gateway may be restarting; the next poll tries again.
  }
  if (poll === latestPoll) {
    pollTimer = setTimeout(refresh, POLL_MS);
  }
}

// One upload's extracted text.

async function showText(id, path) {
  const body = byId("text-body");
  byId("text-path").textContent = path;
  body.textContent = "Loading…";
  byId("text-view").hidden = false;
  try {
    const response = await fetch("api/uploads/" + encodeURIComponent(id) + "/text");
    body.textContent = response.ok ? await response.text() : "Not available: " + (await errorOf(response));
  } catch (error) {
    body.textContent = "Could not load the text: " + error;
  }
  byId("text-view").scrollIntoView();
}

// Uploading, one request per file so that each has its own progress bar.

function sendFile(file, folder, bar, note) {
  return new Promise((resolve) => {
    const form = new FormData();
    form.append("folder", folder);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", byId("upload").action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) {
        bar.max = event.total;
        bar.value = event.loaded;
      }
    };
    request.onload = () => {
      let reply = {};
      try {
        reply = JSON.parse(request.responseText);
      } catch (error) {
        reply = { error: request.statusText };
      }
      if (request.status === 201) {
        bar.value = bar.max;
        note.textContent = "stored as " + reply.uploads.map((upload) => upload.path).join(", ");
      } else {
        note.textContent = "refused (" + request.status + "): " + plain(reply.error);
      }
      resolve(request.status === 201);
    };
    request.onerror = () => {
      note.textContent = "upload failed: the connection was lost";
      resolve(false);
    };
    request.send(form);
  });
}

async function uploadFiles(event) {
  event.preventDefault();
  const form = event.target;
  const input = form.querySelector("input[type=file]");
  const files = Array.from(input.files);
  const folder = form.elements.folder.value;
  const items = files.map((file) => {
    const item = element("li");
    const bar = element("progress");
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    const note = element("span", "waiting", "note");
    item.append(element("span", file.name, "name"), " ", bar, " ", note);
    return { file, bar, note, item };
  });
  byId("progress").replaceChildren(...items.map((entry) => entry.item));
  input.value = "";
  let stored = 0;
  for (const { file, bar, note } of items) {
    note.textContent = "sending";
    stored += (await sendFile(file, folder, bar, note)) ? 1 : 0;
    refresh();
  }
  byId("status").textContent = "Stored " + stored + " of " + files.length + " file(s).";
}

// Full-text search.

function renderHits(uploads) {
  return uploads.map((upload) => {
    const item = element("li");
    const link = textLink(upload);
    link.textContent = upload.path;
    item.append(link, " ", element("span", plain(upload.lines) + " lines", "note"), " ",
      element("q", plain(upload.snippet), "snippet"));
    return item;
  });
}

async function search(event) {
  event.preventDefault();
  const words = event.target.elements.q.value;
  const status = byId("search-status");
  const results = byId("search-results");
  status.textContent = "Searching…";
  try {
    const response = await fetch("api/search?" + new URLSearchParams({ q: words }), { headers: JSON_ACCEPT });
    if (!response.ok) {
      status.textContent = "Refused: " + (await errorOf(response));
      results.replaceChildren();
      return;
    }
    const uploads = (await response.json()).uploads;
    status.textContent = uploads.length ? uploads.length + " found" : "No processed upload holds these words.";
    results.replaceChildren(...renderHits(uploads));
  } catch (error) {
    status.textContent = "Search failed: " + error;
  }
}

// Which processors are connected.

async function health() {
  const line = byId("processors");
  try {
    const reply = await (await fetch("healthz", { headers: JSON_ACCEPT })).json();
    const members = reply.processors.members.map((member) => member.name);
    const spread = reply.spread.ok ? "" : " (the gateway has no Spread session)";
    line.textContent = (members.length
      ? "Processors connected (" + members.length + "): " + members.join(", ")
      : "No processor connected: uploads wait until one joins") + spread;
    line.className = members.length && reply.spread.ok ? "ok" : "degraded";
  } catch (error) {
    line.textContent = "The gateway does not answer.";
    line.className = "degraded";
  }
  setTimeout(health, HEALTH_MS);
}

byId("upload").addEventListener("submit", uploadFiles);
byId("search").addEventListener("submit", search);
byId("filter").addEventListener("submit", (event) => {
  event.preventDefault();
  refresh();
});
byId("filter").elements.name.addEventListener("input", refresh);
byId("text-close").addEventListener("click", () => {
  byId("text-view").hidden = true;
});
refresh();
health();
