// The charts of a device: battery voltage and state of charge first; any numeric field can be added.

import { useMemo, useState } from "preact/hooks";

import { PREFERRED_FIELDS, fieldLabel, fieldUnit, orderFields, type SampleHistory } from "../client";
import { FieldChart } from "./field-chart";

interface Props {
  history: SampleHistory;
  /** The history's version: charts redraw when it changes. */
  version: number;
  visible: boolean;
}

/** The field chooser and one chart per chosen field. */
export function Charts({ history, version, visible }: Props) {
  const available = useMemo(() => orderFields(history.numericFieldPaths()), [history, version]);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const shown = (chosen ?? defaultFields(available)).filter((path) => available.includes(path));
  const toggle = (path: string, on: boolean) => {
    const current = chosen ?? defaultFields(available);
    setChosen(on ? orderFields([...current, path]) : current.filter((p) => p !== path));
  };
  const minutes = Math.round(history.limits.windowMs / 60_000);

  return (
    <section class="card charts-card" aria-labelledby="charts-title">
      <div class="card-head">
        <h3 id="charts-title">Charts</h3>
        <span class="muted small">
          last {minutes >= 60 ? `${Math.round(minutes / 60)} h` : `${minutes} min`} · {history.size} samples
        </span>
      </div>
      {available.length === 0 ? (
        <p class="muted">No numeric field yet.</p>
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
      <div class="charts">
        {shown.map((path) => (
          <FieldChart key={path} history={history} version={version} path={path} visible={visible} />
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
