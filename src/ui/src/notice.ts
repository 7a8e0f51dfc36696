// The operators' notice on every page, the login page too (GET /notice is public): maintenance
// mode with its message, the announcement, and a read-only database (writes refused). Polled
// on its own, so that it shows while a page's own refresh fails.
interface Notice { maintenance: boolean; maintenanceMessage: string | null; announcement: string | null; databaseReadOnly: boolean }

const EVERY_MS = 5000;

function lines(n: Notice): string[] {
  const out: string[] = [];
  if (n.databaseReadOnly) out.push('Read-only: the database refuses writes. Pages keep showing what Keel knows; triggers, clears and edits are refused until it is writable again.');
  if (n.maintenance) out.push(`Maintenance: no runs are started or queued${n.maintenanceMessage ? ` — ${n.maintenanceMessage}` : ''}.`);
  if (n.announcement) out.push(n.announcement);
  return out;
}

async function show(): Promise<void> {
  const box = document.getElementById('notice')!;
  try {
    const res = await fetch('/api/v1/notice', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (!res.ok) return;
    const text = lines((await res.json()) as Notice);
    box.hidden = text.length === 0;
    box.replaceChildren(...text.map((t) => Object.assign(document.createElement('p'), { textContent: t })));
  } catch {
    // the API banner (api.ts) says that the server cannot be reached
  }
}

export function startNoticeBanner(): void {
  void show();
  window.setInterval(() => void show(), EVERY_MS);
}
