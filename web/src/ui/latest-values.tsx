// The latest value of every field of the newest sample, with its unit; battery voltage and SoC first.

import { fieldLabel, fieldUnit, flattenFields, formatValue, orderFields, type DashboardTelemetry } from "../client";

/** A grid of the newest sample's fields. */
export function LatestValues({ last }: { last: DashboardTelemetry | null }) {
  if (!last) {
    return (
      <section class="card values-card" aria-labelledby="values-title">
        <h3 id="values-title">Latest values</h3>
        <p class="muted">Waiting for the first sample…</p>
      </section>
    );
  }
  const fields = flattenFields(last.data);
  const paths = orderFields(fields.keys());
  return (
    <section class="card values-card" aria-labelledby={`values-${last.device_id}`}>
      <h3 id={`values-${last.device_id}`}>Latest values</h3>
      <dl class="values">
        {paths.map((path) => {
          const unit = fieldUnit(path);
          return (
            <div class="value" key={path} data-field={path}>
              <dt title={path}>{fieldLabel(path)}</dt>
              <dd>
                <span class="number">{formatValue(fields.get(path) ?? null)}</span>
                {unit && <span class="unit"> {unit}</span>}
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}
