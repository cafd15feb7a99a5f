// Where the dashboard token lives: memory, and this tab's sessionStorage so a reload keeps it. Never
// localStorage, never the URL; signing out or closing the tab forgets it.

const KEY = "telemetry-hub.dashboard-token";

/** The token kept for this tab, if any. */
export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // Storage disabled: the token lives in memory only.
  }
}

/** Keeps `token` for this tab's session. */
export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled or full: memory only.
  }
}

/** Forgets the token. */
export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was kept.
  }
}

/** A first check of what the user typed, before asking the hub: the message to show, or null. */
export function tokenShapeProblem(token: string): string | null {
  if (token === "") return "Enter a dashboard token.";
  if (/^t(dev|adm)_/.test(token)) return "This is not a dashboard token: dashboard tokens start with tdash_.";
  if (!token.startsWith("tdash_")) return "A dashboard token starts with tdash_.";
  if (!/^tdash_[A-Za-z0-9]{49}$/.test(token)) {
    return "A dashboard token is tdash_ and 49 letters and digits: check that it was copied whole.";
  }
  return null;
}
