// Keeps the list of recent uploads current and sends the form without leaving the page.
"use strict";

const COLUMNS = ["id", "path", "size", "state", "lines", "converter", "error", "received_at"];
const POLL_MS = 1000;

function renderRows(uploads) {
  const body = document.querySelector("#uploads tbody");
  const rows = uploads.map((upload) => {
    const row = document.createElement("tr");
    row.className = "state-" + upload.state;
    for (const column of COLUMNS) {
      const cell = document.createElement("td");
      const value = upload[column];
      cell.textContent = value === null || value === undefined ? "" : String(value);
      row.appendChild(cell);
    }
    return row;
  });
  body.replaceChildren(...rows);
}

async function refresh() {
  try {
    const response = await fetch("api/uploads?limit=50", { headers: { Accept: "application/json" } });
    if (response.ok) {
      renderRows((await response.json()).uploads);
    }
  } catch (error) {
    // The gateway may be restarting; the next poll tries again.
  }
  setTimeout(refresh, POLL_MS);
}

async function submitForm(event) {
  event.preventDefault();
  const form = event.target;
  const status = document.getElementById("status");
  status.textContent = "Uploading…";
  try {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { Accept: "application/json" },
    });
    const reply = await response.json();
    if (response.ok) {
      status.textContent = "Stored " + reply.uploads.map((upload) => upload.path).join(", ");
      form.querySelector("input[type=file]").value = "";
    } else {
      status.textContent = "Refused (" + response.status + "): " + reply.error;
    }
  } catch (error) {
    status.textContent = "Upload failed: " + error;
  }
}

document.getElementById("upload").addEventListener("submit", submitForm);
refresh();
