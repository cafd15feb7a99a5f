import { describe, expect, it } from "vitest";

import { tokenShapeProblem } from "./session";

const GOOD = `tdash_${"a1B2c3".repeat(8)}x`;

describe("tokenShapeProblem", () => {
  it("accepts the shape hubctl prints and refuses others before asking the hub", () => {
    expect(GOOD.length).toBe(6 + 49);
    expect(tokenShapeProblem(GOOD)).toBeNull();
    expect(tokenShapeProblem("")).toBe("Enter a dashboard token.");
    expect(tokenShapeProblem(`tdev_${"a".repeat(49)}`)).toMatch(/not a dashboard token/);
    expect(tokenShapeProblem("hello")).toMatch(/starts with tdash_/);
    expect(tokenShapeProblem(GOOD.slice(0, -3))).toMatch(/copied whole/);
    expect(tokenShapeProblem(`${GOOD.slice(0, -1)}-`)).toMatch(/copied whole/);
  });
});
