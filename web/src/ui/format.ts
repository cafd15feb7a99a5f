// Times for display: local clock times and "N s ago".

/** `14:03:22` in the browser's time zone. */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** `2026-02-03 14:03:22` when not today, else the clock time. */
export function dateTime(ms: number, now: number): string {
  const day = new Date(ms).toDateString();
  if (day === new Date(now).toDateString()) return clockTime(ms);
  return `${new Date(ms).toLocaleDateString()} ${clockTime(ms)}`;
}

/** `just now`, `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 2) return "just now";
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
