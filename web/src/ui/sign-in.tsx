// The sign-in form: a dashboard token, checked for shape here and by the hub (`GET /api/devices`).

import { useEffect, useRef, useState } from "preact/hooks";

import { tokenShapeProblem } from "./session";

interface Props {
  busy: boolean;
  /** Why the last attempt failed (or "signed out"), shown as an alert. */
  message: string | null;
  onSubmit: (token: string) => void;
}

/** The sign-in page. */
export function SignIn({ busy, message, onSubmit }: Props) {
  const [problem, setProblem] = useState<string | null>(null);
  const [shown, setShown] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const alert = problem ?? message;

  // Set on the element: the input keeps what was typed when it switches between hidden and shown.
  useEffect(() => {
    if (input.current) input.current.type = shown ? "text" : "password";
  }, [shown]);

  const submit = (event: Event) => {
    event.preventDefault();
    const token = (input.current?.value ?? "").trim();
    const shape = tokenShapeProblem(token);
    setProblem(shape);
    if (shape) {
      input.current?.focus();
      return;
    }
    onSubmit(token);
  };

  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <h1 id="signin-title">Telemetry hub</h1>
        <p class="muted">Watch your devices live. Sign in with a dashboard token.</p>
        <label for="token">Dashboard token</label>
        <div class="token-row">
          <input
            id="token"
            ref={input}
            type="password"
            name="token"
            autoComplete="off"
            autoCapitalize="off"
            spellcheck={false}
            placeholder="tdash_…"
            aria-describedby="token-hint"
            aria-invalid={alert ? true : undefined}
            disabled={busy}
            autoFocus
          />
          <button type="button" class="secondary" onClick={() => setShown(!shown)} aria-pressed={shown}>
            {shown ? "Hide" : "Show"}
          </button>
        </div>
        <p id="token-hint" class="hint">
          Made with <code>hubctl dashboard create</code>. Kept in this browser tab only, until you sign out or close it.
        </p>
        <div class="alert" role="alert" hidden={!alert}>
          {alert}
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
