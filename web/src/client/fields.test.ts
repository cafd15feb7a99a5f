import { describe, expect, it } from "vitest";

import { fieldLabel, fieldUnit, flattenFields, formatValue, numericFields, orderFields } from "./fields";

const data = {
  pv_power_w: 1250.5,
  battery: { voltage: 53.2, soc: 85, current_a: -3.1 },
  load_power_w: 400,
  dropped_samples: 0,
  status: "charging",
  inputs: { gpio17: true },
};

describe("fields", () => {
  it("flattens nested objects to dotted paths, keeping only finite numbers as numeric", () => {
    expect([...flattenFields(data).keys()]).toEqual([
      "pv_power_w",
      "battery.voltage",
      "battery.soc",
      "battery.current_a",
      "load_power_w",
      "dropped_samples",
      "status",
      "inputs.gpio17",
    ]);
    expect([...numericFields(data).keys()]).not.toContain("status");
    expect([...numericFields(data).keys()]).not.toContain("inputs.gpio17");
  });

  it("puts battery voltage and state of charge first", () => {
    expect(orderFields(numericFields(data).keys()).slice(0, 3)).toEqual([
      "battery.voltage",
      "battery.soc",
      "pv_power_w",
    ]);
  });

  it("derives units from names and suffixes", () => {
    expect(fieldUnit("battery.voltage")).toBe("V");
    expect(fieldUnit("battery.soc")).toBe("%");
    expect(fieldUnit("battery.current_a")).toBe("A");
    expect(fieldUnit("pv_power_w")).toBe("W");
    expect(fieldUnit("monitor.shunt_voltage_mv")).toBe("mV");
    expect(fieldUnit("energy_kwh")).toBe("kWh");
    expect(fieldUnit("dropped_samples")).toBe("");
    expect(fieldUnit("_w")).toBe("");
  });

  it("makes readable labels", () => {
    expect(fieldLabel("battery.voltage")).toBe("Battery voltage");
    expect(fieldLabel("battery.soc")).toBe("Battery state of charge");
    expect(fieldLabel("pv_power_w")).toBe("PV power");
    expect(fieldLabel("dropped_samples")).toBe("Dropped samples");
  });

  it("formats values", () => {
    expect(formatValue(53.2)).toBe("53.2");
    expect(formatValue(1 / 3)).toBe("0.333");
    expect(formatValue(true)).toBe("on");
    expect(formatValue(null)).toBe("–");
    expect(formatValue([1, 2])).toBe("[1,2]");
  });
});
