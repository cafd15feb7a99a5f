// Signed in: the header, the device picker and one live tab per opened device. Tabs in the background stay
// connected, so their charts keep filling; closing a tab closes its socket.

import { useState } from "preact/hooks";

import type { DeviceList } from "../client";
import { DevicePanel } from "./device-panel";
import { DevicePicker } from "./device-picker";

interface Props {
  baseUrl: string;
  token: string;
  list: DeviceList;
  onSignOut: (message: string | null) => void;
}

/** The signed-in page. */
export function Dashboard({ baseUrl, token, list, onSignOut }: Props) {
  const [open, setOpen] = useState<string[]>(() => (list.devices.length === 1 ? [...list.devices] : []));
  const [active, setActive] = useState<string | null>(() => (list.devices.length === 1 ? list.devices[0] : null));

  const show = (id: string) => {
    setOpen((tabs) => (tabs.includes(id) ? tabs : [...tabs, id]));
    setActive(id);
  };
  const close = (id: string) => {
    const rest = open.filter((tab) => tab !== id);
    setOpen(rest);
    if (active === id) setActive(rest[rest.length - 1] ?? null);
  };

  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
  const onTabKey = (event: KeyboardEvent) => {
    const at = active ? open.indexOf(active) : -1;
    const moves: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: open.length - 1 };
    if (!(event.key in moves) || open.length === 0) return;
    event.preventDefault();
    const next = open[(moves[event.key] + open.length) % open.length];
    setActive(next);
    document.getElementById(`tab-${next}`)?.focus();
  };

  return (
    <div class="shell">
      <header class="topbar">
        <h1>Telemetry hub</h1>
        <span class="muted access">
          {list.access === "control" ? "control access" : "read-only access"} · {list.devices.length}{" "}
          {list.devices.length === 1 ? "device" : "devices"}
        </span>
        <button type="button" class="secondary" onClick={() => onSignOut(null)}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <DevicePicker devices={list.devices} open={open} active={active} onPick={show} />
        <main class="main">
          {open.length > 0 && (
            <div class="tabs" role="tablist" aria-label="Open devices" onKeyDown={onTabKey}>
              {open.map((id) => (
                <div class={`tab${id === active ? " active" : ""}`} key={id}>
                  <button
                    type="button"
                    role="tab"
                    id={`tab-${id}`}
                    aria-selected={id === active}
                    aria-controls={`panel-${id}`}
                    tabIndex={id === active ? 0 : -1}
                    onClick={() => setActive(id)}
                  >
                    {id}
                  </button>
                  <button type="button" class="tab-close" aria-label={`Close ${id}`} onClick={() => close(id)}>
                    ×
                  </button>
                </div>
              ))}
            </div>
          )}
          {open.length === 0 && (
            <p class="empty card">
              {list.devices.length === 0
                ? "This token covers no device yet. Create one with hubctl device create."
                : "Pick a device to watch it live."}
            </p>
          )}
          {open.map((id) => (
            <section
              key={id}
              role="tabpanel"
              id={`panel-${id}`}
              aria-labelledby={`tab-${id}`}
              hidden={id !== active}
              class="panel"
            >
              <DevicePanel
                baseUrl={baseUrl}
                token={token}
                deviceId={id}
                access={list.access}
                visible={id === active}
                onRevoked={() => onSignOut("The hub closed the connection: this token was revoked.")}
              />
            </section>
          ))}
        </main>
      </div>
    </div>
  );
}
