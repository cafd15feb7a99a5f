// @vitest-environment happy-dom
// The command list in a real (happy-dom) Preact tree: states in words, and Cancel only on queued commands.

import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { CommandRecord, CommandState } from "../client";
import { CommandResults } from "./command-results";

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(async () => {
  await act(() => render(null, root));
  root.remove();
});

const command = (id: string, state: CommandState | null, status: CommandRecord["status"] = "pending") => ({
  id,
  name: "set_interval",
  args: { seconds: 5 },
  sentAt: 0,
  status,
  detail: status === "pending" ? "sent" : (state ?? ""),
  connection: 1,
  ...(state ? { queue: { state, queuedAt: "t", expiresAt: "2026-02-03T13:00:00.000Z" } } : {}),
});

describe("CommandResults", () => {
  it("labels each state in words and offers Cancel only while queued", async () => {
    const cancel = vi.fn(() => Promise.resolve({ ok: true, detail: "cancelled" }));
    const commands: CommandRecord[] = [
      command("q", "queued"),
      command("s", "sent"),
      command("c", "cancelled", "failed"),
      command("e", "expired", "failed"),
      command("plain", null),
    ];
    await act(() => render(<CommandResults commands={commands} connected={true} cancel={cancel} />, root));
    const row = (id: string) => root.querySelector(`li[data-id="${id}"]`);
    expect(row("q")?.querySelector(".state-label")?.textContent).toBe("Queued");
    expect(row("q")?.textContent).toContain("waiting for the device until");
    expect(row("s")?.querySelector(".state-label")?.textContent).toBe("Sent");
    expect(row("c")?.querySelector(".state-label")?.textContent).toBe("Cancelled");
    expect(row("e")?.querySelector(".state-label")?.textContent).toBe("Expired");
    expect(row("plain")?.textContent).toContain("waiting for the device…");
    const buttons = [...root.querySelectorAll("button")];
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual(["Cancel set_interval seconds=5"]);
    await act(() => buttons[0].click());
    expect(cancel).toHaveBeenCalledWith("q");
  });

  it("disables Cancel while a cancel is on its way or the socket is down", async () => {
    const cancel = vi.fn(() => Promise.resolve({ ok: true, detail: "cancelled" }));
    const cancelling = { ...command("q", "queued"), cancelling: true };
    await act(() => render(<CommandResults commands={[cancelling]} connected={true} cancel={cancel} />, root));
    expect(root.querySelector("button")?.disabled).toBe(true);
    expect(root.querySelector("button")?.textContent).toBe("Cancelling…");
    await act(() =>
      render(<CommandResults commands={[command("q", "queued")]} connected={false} cancel={cancel} />, root),
    );
    expect(root.querySelector("button")?.disabled).toBe(true);
  });
});
