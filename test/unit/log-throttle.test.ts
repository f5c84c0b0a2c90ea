import { describe, expect, test } from "bun:test";
import { LogThrottle } from "../../src/log-throttle.ts";

describe("LogThrottle", () => {
  test("shows the first line of a kind, holds back repeats within the interval, then counts them", () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.admit("no-reply-to", 0)).toEqual({ show: true, heldBack: 0 });
    expect(throttle.admit("no-reply-to", 10)).toEqual({ show: false });
    expect(throttle.admit("no-reply-to", 999)).toEqual({ show: false });
    expect(throttle.admit("no-reply-to", 1000)).toEqual({ show: true, heldBack: 2 });
    expect(throttle.admit("no-reply-to", 5000)).toEqual({ show: true, heldBack: 0 });
  });

  test("kinds are throttled apart", () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.admit("a", 0).show).toBe(true);
    expect(throttle.admit("b", 1).show).toBe(true);
    expect(throttle.admit("a", 2).show).toBe(false);
  });
});

test("works on real clock readings: the interval is measured from the last line shown", () => {
  const throttle = new LogThrottle(5000);
  const now = 1_800_000_000_000;
  expect(throttle.admit("x", now).show).toBe(true);
  expect(throttle.admit("x", now + 4999)).toEqual({ show: false });
  expect(throttle.admit("x", now + 5000)).toEqual({ show: true, heldBack: 1 });
});
