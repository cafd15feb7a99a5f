// The charts of a device: a range of the hub's history (1 h, 24 h or 7 d) with the live samples after it, battery
// voltage and state of charge first (any numeric field can be added), and the range as a CSV download.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import {
  HISTORY_RANGES,
  PREFERRED_FIELDS,
  fieldLabel,
  fieldUnit,
  historyPoints,
  orderFields,
  type HistoryRange,
  type SampleHistory,
} from "../client";
import { CsvDownload } from "./csv-download";
import { FieldChart } from "./field-chart";

interface Props {
  history: SampleHistory;
  /** The history's version: charts redraw when it changes. */
  version: number;
  visible: boolean;
  range: HistoryRange;
  showRange: (ms: number, points: number) => Promise<void>;
  /** Where the CSV export goes, with what token. */
  hub: { baseUrl: string; token: string; deviceId: string };
}

/** Narrowest chart in the grid (`.charts` in styles.css): 26rem. */
const MIN_CHART_PX = 26 * 16;
const GRID_GAP_PX = 16;

/** The range choice, the field chooser and one chart per chosen field. */
export function Charts({ history, version, visible, range, showRange, hub }: Props) {
  const grid = useRef<HTMLDivElement>(null);
  // `history` is mutable: `version` says when it changed.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the memo's key is the history's version
  const available = useMemo(() => orderFields(history.numericFieldPaths()), [history, version]);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const shown = (chosen ?? defaultFields(available)).filter((path) => available.includes(path));
  const toggle = (path: string, on: boolean) => {
    const current = chosen ?? defaultFields(available);
    setChosen(on ? orderFields([...current, path]) : current.filter((p) => p !== path));
  };
  const choose = (ms: number) => void showRange(ms, pointsFor(grid.current));

  // A device opens on the past: its last hour as soon as its connection exists (`showRange` changes with it).
  useEffect(() => {
    if (range.status === "idle") void showRange(range.ms, pointsFor(grid.current));
  }, [range.status, range.ms, showRange]);

  return (
    <section
      class="card charts-card"
      aria-labelledby={`charts-${hub.deviceId}`}
      data-range-ms={range.ms}
      data-range-status={range.status}
      data-bucket-ms={range.bucketMs}
    >
      <div class="card-head">
        <h3 id={`charts-${hub.deviceId}`}>Charts</h3>
        <div class="range-choice" role="group" aria-label="Time range">
          {HISTORY_RANGES.map((choice) => (
            <button
              key={choice.ms}
              type="button"
              class="secondary range"
              aria-pressed={choice.ms === range.ms}
              onClick={() => choose(choice.ms)}
            >
              {choice.label}
            </button>
          ))}
        </div>
        <span class="muted small" role="status" data-testid="range-status">
          {rangeText(range, history.size)}
        </span>
        <CsvDownload {...hub} rangeMs={range.ms} />
      </div>
      {available.length === 0 ? (
        <p class="muted">{range.status === "loading" ? "Loading the history…" : "No numeric field yet."}</p>
      ) : (
        <details class="field-chooser">
          <summary>
            Fields to chart ({shown.length} of {available.length})
          </summary>
          <fieldset>
            <legend class="visually-hidden">Fields to chart</legend>
            {available.map((path) => (
              <label key={path} class="check">
                <input
                  type="checkbox"
                  checked={shown.includes(path)}
                  onChange={(e) => toggle(path, (e.target as HTMLInputElement).checked)}
                />
                {fieldLabel(path)}
                {fieldUnit(path) && <span class="muted"> ({fieldUnit(path)})</span>}
              </label>
            ))}
          </fieldset>
        </details>
      )}
      <div class="charts" ref={grid}>
        {shown.map((path) => (
          <FieldChart key={path} history={history} version={version} path={path} visible={visible} range={range} />
        ))}
      </div>
    </section>
  );
}

/** Battery voltage and SoC when present, else the first two numeric fields. */
function defaultFields(available: string[]): string[] {
  const preferred = PREFERRED_FIELDS.filter((p) => available.includes(p));
  return preferred.length > 0 ? preferred : available.slice(0, 2);
}

/** The width of one chart: a chart's own, else the grid's split into as many columns as fit. */
/** The point budget of a range shown in `grid`: one point a pixel of a chart's width. */
function pointsFor(grid: HTMLElement | null): number {
  return historyPoints(chartWidth(grid));
}

function chartWidth(grid: HTMLElement | null): number {
  if (!grid) return 0;
  const box = grid.querySelector<HTMLElement>(".chart-box");
  if (box && box.clientWidth > 0) return box.clientWidth;
  const columns = Math.max(1, Math.floor((grid.clientWidth + GRID_GAP_PX) / (MIN_CHART_PX + GRID_GAP_PX)));
  return (grid.clientWidth - (columns - 1) * GRID_GAP_PX) / columns;
}

function rangeText(range: HistoryRange, points: number): string {
  switch (range.status) {
    case "idle":
    case "loading":
      return "loading the history…";
    case "failed":
      return `history unavailable: ${range.message ?? "unknown error"} (live samples only)`;
    case "ready": {
      const per = range.bucketMs > 0 ? ` · a point per ${spanText(range.bucketMs)}` : "";
      const late = range.truncated ? " · starts late: the hub cut the answer" : "";
      return `${points.toLocaleString()} points${per}${late}`;
    }
  }
}

function spanText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
