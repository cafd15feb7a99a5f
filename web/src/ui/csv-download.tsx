// The CSV download of the range shown: every page of `history.csv`, joined, saved as one file.

import { useEffect, useRef, useState } from "preact/hooks";

import { csvFileName, fetchHistoryCsv } from "../client";
import { saveFile } from "./save-file";

interface Props {
  baseUrl: string;
  token: string;
  deviceId: string;
  /** The range shown, in ms back from now. */
  rangeMs: number;
}

type State =
  | { kind: "idle" }
  | { kind: "busy" }
  | { kind: "saved"; rows: number; complete: boolean }
  | { kind: "failed"; message: string };

/** A button that saves the range as CSV, and what became of the last download. */
export function CsvDownload({ baseUrl, token, deviceId, rangeMs }: Props) {
  const [state, setState] = useState<State>({ kind: "idle" });
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const download = async () => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setState({ kind: "busy" });
    const to = Date.now();
    const from = to - rangeMs;
    const result = await fetchHistoryCsv({ baseUrl, token, deviceId, signal: controller.signal }, { from, to });
    if (controller.signal.aborted) return;
    if (!result.ok) {
      setState({ kind: "failed", message: result.message });
      return;
    }
    saveFile(csvFileName(deviceId, from, to), result.parts, "text/csv");
    setState({ kind: "saved", rows: result.rows, complete: result.complete });
  };

  return (
    <span class="csv-download">
      <button type="button" class="secondary" onClick={() => void download()} disabled={state.kind === "busy"}>
        {state.kind === "busy" ? "Preparing CSV…" : "Download CSV"}
      </button>
      <span class="muted small" role="status" data-testid="csv-status" data-state={state.kind}>
        {state.kind === "saved" &&
          `${state.rows.toLocaleString()} rows saved${state.complete ? "" : " (the file ends early: the range holds more)"}`}
        {state.kind === "failed" && `No CSV: ${state.message}`}
      </span>
    </span>
  );
}
