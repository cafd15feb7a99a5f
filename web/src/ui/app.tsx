// The page: sign-in until the hub accepts a token, then the dashboard of the devices it covers.

import { useEffect, useState } from "preact/hooks";

import { fetchDevices, type DeviceList } from "../client";
import { Dashboard } from "./dashboard";
import { forgetToken, loadToken, saveToken } from "./session";
import { SignIn } from "./sign-in";

type Phase =
  | { kind: "signed-out"; message: string | null }
  | { kind: "checking"; token: string }
  | { kind: "signed-in"; token: string; list: DeviceList };

/** The whole page for the hub at `baseUrl` (the page's own origin when served by the Worker). */
export function App({ baseUrl }: { baseUrl: string }) {
  const [phase, setPhase] = useState<Phase>(() => {
    const token = loadToken();
    return token ? { kind: "checking", token } : { kind: "signed-out", message: null };
  });

  useEffect(() => {
    if (phase.kind !== "checking") return;
    let cancelled = false;
    // fetchDevices never rejects.
    void fetchDevices(baseUrl, phase.token).then((result) => {
      if (cancelled) return;
      if (result.ok) {
        saveToken(phase.token);
        setPhase({ kind: "signed-in", token: phase.token, list: result });
      } else {
        forgetToken();
        setPhase({ kind: "signed-out", message: result.message });
      }
    });
    return () => {
      cancelled = true;
    };
  }, [phase, baseUrl]);

  const signOut = (message: string | null) => {
    forgetToken();
    setPhase({ kind: "signed-out", message });
  };

  useEffect(() => {
    document.title = phase.kind === "signed-in" ? "Telemetry hub · dashboard" : "Telemetry hub · sign in";
  }, [phase.kind]);

  if (phase.kind === "signed-in") {
    return <Dashboard baseUrl={baseUrl} token={phase.token} list={phase.list} onSignOut={signOut} />;
  }
  return (
    <SignIn
      busy={phase.kind === "checking"}
      message={phase.kind === "signed-out" ? phase.message : null}
      onSubmit={(token) => setPhase({ kind: "checking", token })}
    />
  );
}
