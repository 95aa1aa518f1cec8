import { createHash } from 'node:crypto';

/**
 * The upload page (`GET /upload`): one HTML document with its style and script inline, allowed by
 * their hashes in its Content-Security-Policy (nothing else runs, nothing is loaded from elsewhere).
 * Drop files or a whole folder (DataTransferItem.webkitGetAsEntry, or the folder picker,
 * webkitdirectory); each DICOM file (checked for "DICM" after the 128-byte preamble before it is
 * sent) is posted alone to `api/upload` (relative, so a path prefix works) with XMLHttpRequest,
 * whose upload progress events drive a bar per file; its result and a link to the study in the
 * viewer follow. Three uploads run at once. With access control on, the page sends
 * `Authorization: Bearer` with the API key typed in its field, or else the hosted viewer's OpenID
 * Connect access token when the viewer signed in on this origin (oidc-client keeps it in session
 * storage under `oidc.user:…`). Names and reasons are written with textContent, never as HTML.
 */
const STYLE = `
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2230; }
h1 { font-size: 1.4rem; }
#drop { border: 2px dashed #7a8599; border-radius: 8px; padding: 2rem; text-align: center; background: #f5f7fb; }
#drop.over { background: #e3ecff; border-color: #2f5fd0; }
#drop label { display: inline-block; margin: 0.5rem; padding: 0.4rem 0.8rem; border: 1px solid #7a8599; border-radius: 4px; cursor: pointer; background: #fff; }
#drop input[type=file] { display: none; }
.credential { margin: 1rem 0; }
.credential input { width: 24rem; }
#summary { margin: 1rem 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #e1e5ee; vertical-align: top; }
td.name { word-break: break-all; }
progress { width: 8rem; }
tr[data-result=stored] td.result, tr[data-result="already present"] td.result { color: #17693a; }
tr[data-result=refused] td.result, tr[data-result=failed] td.result { color: #a3261b; }
tr[data-result=skipped] td.result { color: #6b7280; }
`;

const SCRIPT = `
(() => {
  'use strict';
  const CONCURRENCY = 3;
  const drop = document.getElementById('drop');
  const rows = document.getElementById('rows');
  const summary = document.getElementById('summary');
  const tokenField = document.getElementById('token');
  const counts = { stored: 0, 'already present': 0, refused: 0, skipped: 0, failed: 0 };
  const queue = [];
  let running = 0;
  let total = 0;

  function credential() {
    const typed = tokenField.value.trim();
    if (typed) return typed;
    // The hosted viewer's sign-in (oidc-client-ts) keeps its user in session storage on this origin.
    for (const store of [sessionStorage, localStorage]) {
      for (let i = 0; i < store.length; i++) {
        const key = store.key(i);
        if (!key || !key.startsWith('oidc.user:')) continue;
        try {
          const user = JSON.parse(store.getItem(key));
          if (user && user.access_token && (!user.expires_at || user.expires_at * 1000 > Date.now())) return user.access_token;
        } catch (e) { /* not ours */ }
      }
    }
    return '';
  }

  function showSummary() {
    const done = counts.stored + counts['already present'] + counts.refused + counts.skipped + counts.failed;
    summary.textContent = done + ' of ' + total + ' file(s): ' + counts.stored + ' stored, ' + counts['already present'] + ' already present, ' +
      counts.refused + ' refused, ' + counts.failed + ' failed, ' + counts.skipped + ' skipped (not DICOM)';
    summary.dataset.done = String(total > 0 && done === total);
  }

  function addRow(name) {
    const tr = document.createElement('tr');
    const cells = ['name', 'progress', 'result', 'study'].map((cls) => {
      const td = document.createElement('td');
      td.className = cls;
      tr.appendChild(td);
      return td;
    });
    cells[0].textContent = name;
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    cells[1].appendChild(bar);
    cells[2].textContent = 'waiting';
    tr.dataset.name = name;
    rows.appendChild(tr);
    return { tr, bar, result: cells[2], study: cells[3] };
  }

  function finish(row, result, text) {
    row.tr.dataset.result = result;
    row.result.textContent = text;
    counts[result]++;
    showSummary();
  }

  async function isDicom(file) {
    if (file.size < 132) return false;
    const magic = new Uint8Array(await file.slice(128, 132).arrayBuffer());
    return String.fromCharCode(...magic) === 'DICM';
  }

  function add(file, name) {
    total++;
    const row = addRow(name);
    queue.push({ file, name, row });
    showSummary();
    pump();
  }

  function pump() {
    while (running < CONCURRENCY && queue.length) {
      const item = queue.shift();
      running++;
      send(item).finally(() => { running--; pump(); });
    }
  }

  async function send({ file, name, row }) {
    if (!(await isDicom(file))) {
      row.bar.value = 1;
      finish(row, 'skipped', 'skipped: not DICOM (no "DICM" after a 128-byte preamble)');
      return;
    }
    row.result.textContent = 'sending';
    await new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', 'api/upload');
      const token = credential();
      if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) row.bar.value = e.loaded / e.total; };
      xhr.onerror = () => { finish(row, 'failed', 'failed: the server could not be reached'); resolve(); };
      xhr.onload = () => {
        row.bar.value = 1;
        let body;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = undefined; }
        const item = body && Array.isArray(body.files) ? body.files[0] : undefined;
        if (!item) {
          const why = body && (body.detail || body.title) ? (body.detail || body.title) : xhr.statusText;
          finish(row, 'failed', 'failed: HTTP ' + xhr.status + ' ' + why);
        } else {
          const text = item.result === 'refused' ? 'refused: ' + item.reason : item.result + (item.warning ? ' (warning: ' + item.warning + ')' : '');
          finish(row, item.result, text);
          if (item.viewerUrl) {
            const a = document.createElement('a');
            a.href = item.viewerUrl;
            a.target = '_blank';
            a.rel = 'noopener';
            a.textContent = 'open study';
            a.dataset.study = item.studyInstanceUid;
            row.study.appendChild(a);
          }
        }
        resolve();
      };
      const form = new FormData();
      form.append('file', file, name);
      xhr.send(form);
    });
  }

  function readEntries(reader) {
    return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  }

  async function walk(entry, path) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      add(file, path + entry.name);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      // readEntries answers in pages: call it until it returns nothing.
      for (let page = await readEntries(reader); page.length; page = await readEntries(reader)) {
        for (const child of page) await walk(child, path + entry.name + '/');
      }
    }
  }

  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const entries = [...e.dataTransfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    if (entries.length) entries.forEach((entry) => walk(entry, ''));
    else [...e.dataTransfer.files].forEach((file) => add(file, file.name));
  });
  for (const id of ['files', 'folder']) {
    document.getElementById(id).addEventListener('change', (e) => {
      [...e.target.files].forEach((file) => add(file, file.webkitRelativePath || file.name));
      e.target.value = '';
    });
  }
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export interface UploadPage {
  html: string;
  styleHash: string;
  scriptHash: string;
}

export function uploadPageHtml(): UploadPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upload DICOM files · Tessera</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>Upload DICOM files</h1>
<p>Drop files or whole folders here. DICOM files (found by content, not by name) are stored like a STOW-RS upload; anything else is skipped.</p>
<div id="drop">
  <p>Drop files or folders here, or</p>
  <label>choose files<input type="file" id="files" multiple></label>
  <label>choose a folder<input type="file" id="folder" webkitdirectory multiple></label>
</div>
<div class="credential">
  <label>API key (only when the server asks for one): <input type="password" id="token" autocomplete="off" placeholder="tsk_…"></label>
</div>
<div id="summary" data-done="false">No file yet.</div>
<table>
<thead><tr><th>File</th><th>Progress</th><th>Result</th><th>Viewer</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;
  return { html, styleHash: sha256(STYLE), scriptHash: sha256(SCRIPT) };
}

/** The page's policy: its own inline style and script (by hash), requests to this origin only; `data:` images for the empty favicon. */
export const UPLOAD_PAGE_POLICY = (page: UploadPage): string =>
  `default-src 'none'; script-src ${page.scriptHash}; style-src ${page.styleHash}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'`;
