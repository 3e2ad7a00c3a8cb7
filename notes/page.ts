/** The notes page: the newest notes, with the copy jobs each has pending, and a form to write one. Links are relative (they work under any stage). */
import { escapeHtml, htmlPage } from 'ferry';
import type { Note } from './notes.js';

export function notesPage(notes: readonly Note[]): string {
  const rows = notes
    .map(
      (n) => `<tr data-note="${escapeHtml(n.id)}"><td><strong>${escapeHtml(n.title)}</strong><br><span class="muted">${escapeHtml(n.body.slice(0, 200))}</span></td>
<td>${n.copyOf !== undefined ? `copy of <code>${escapeHtml(n.copyOf)}</code>` : ''}</td>
<td>${(n.pendingJobs ?? []).map((j) => `<a href="jobs/${encodeURIComponent(j)}">copying…</a>`).join(' ')}</td>
<td class="muted">${escapeHtml(n.createdAt)}</td></tr>`,
    )
    .join('\n');
  return htmlPage(
    'Notes',
    `<h1>Notes</h1><p class="muted">A Ferry example: notes written with their jobs in one transaction, copied in the background.</p>
<form method="post" action="notes"><p><label>Title <input name="title" required maxlength="200"></label></p>
<p><label>Body <textarea name="body" rows="3" cols="50" maxlength="10000"></textarea></label></p><p><button type="submit">Add note</button></p></form>
<h2>${notes.length} note${notes.length === 1 ? '' : 's'}</h2>
${notes.length === 0 ? '<p class="muted" id="empty">No notes yet.</p>' : `<table id="notes"><thead><tr><th>Note</th><th></th><th>Jobs</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`}`,
  );
}
