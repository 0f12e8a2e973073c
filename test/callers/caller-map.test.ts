import assert from "node:assert/strict";
import { test } from "node:test";
import { CallerMap, type CallerEntry } from "../../src/callers/caller-map";
import { parseCallers } from "../../src/config/callers";
import { FakeClock } from "../support/fake-clock";
import { logInto } from "../support/log";

function entry(name: string, callers: string[]): CallerEntry<string> {
  return { name, callers: parseCallers(name, callers), target: { kind: "one", value: name } };
}

function setUp(entries: CallerEntry<string>[], names: Record<string, string[]>, fallback?: string) {
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  const dns = { ...names };
  let lookups = 0;
  const map = new CallerMap(entries, {
    clock,
    log: logInto(lines, clock),
    fallback,
    resolve: async (name) => {
      lookups += 1;
      const addresses = dns[name];
      if (addresses === undefined) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      return addresses;
    },
  });
  return { map, clock, lines, dns, lookups: () => lookups };
}

test("addresses, networks and resolved names find their instance; strangers find none, or the fallback", async () => {
  const { map } = setUp([entry("web", ["web"]), entry("db", ["10.0.2.0/24", "fd00:0:0::5"]), entry("one", ["10.0.9.9"])], { web: ["10.0.0.2", "10.0.0.3"] });
  await map.start();
  assert.equal(map.lookup("10.0.0.2"), "web");
  assert.equal(map.lookup("::ffff:10.0.0.3"), "web", "IPv4-mapped addresses are the same caller");
  assert.equal(map.lookup("10.0.2.77"), "db");
  assert.equal(map.lookup("fd00::5"), "db", "as a socket gives it");
  assert.equal(map.lookup("10.0.9.9"), "one");
  assert.equal(map.lookup("10.0.0.9"), undefined);
  assert.deepEqual(map.addressesOf("web").sort(), ["10.0.0.2", "10.0.0.3"]);

  const withFallback = setUp([entry("web", ["web"])], { web: ["10.0.0.2"] }, "top");
  await withFallback.map.start();
  assert.equal(withFallback.map.lookup("10.0.0.9"), "top");
});

test("a name that does not resolve is logged and the others are served; it is found once it resolves", async () => {
  const { map, clock, lines, dns } = setUp([entry("web", ["web"]), entry("late", ["late"])], { web: ["10.0.0.2"] });
  await map.start();
  assert.equal(map.lookup("10.0.0.2"), "web");
  assert.ok(lines.some((line) => line.event === "caller-name-unresolved" && line.name === "late" && line.code === "ENOTFOUND"));
  dns.late = ["10.0.0.8"];
  await clock.advance(30_000);
  assert.equal(map.lookup("10.0.0.8"), "late", "the background refresh finds it");
});

test("an unknown caller waits for a fresh resolution, started at most once a second", async () => {
  const { map, clock, dns, lookups } = setUp([entry("web", ["web"])], { web: [] });
  await map.start();
  const before = lookups();
  dns.web = ["10.0.0.4"];
  assert.equal(map.select("10.0.0.4"), undefined, "right after a resolution, the next is more than the wait away");
  await clock.advance(600);
  const waiting = map.select("10.0.0.4");
  assert.ok(waiting instanceof Promise, "the next resolution, due within the wait, is awaited");
  await clock.advance(400);
  assert.equal(await waiting, "web", "a container that has just started is served");
  assert.equal(lookups(), before + 1);
  assert.equal(map.select("10.0.0.99"), undefined, "within the second no new resolution is started");
  assert.equal(lookups(), before + 1);
  await clock.advance(1000);
  const stranger = map.select("10.0.0.99");
  assert.ok(stranger instanceof Promise);
  assert.equal(await stranger, undefined);
  assert.equal(lookups(), before + 2);
  assert.equal(map.select("10.0.0.4"), "web", "a known caller never waits");
});

test("an address two entries claim is refused and logged; an address that moves serves its new entry", async () => {
  const { map, clock, lines, dns } = setUp([entry("web", ["web"]), entry("worker", ["worker"])], { web: ["10.0.0.2"], worker: ["10.0.0.3"] });
  await map.start();
  dns.worker = ["10.0.0.3", "10.0.0.2"];
  await clock.advance(30_000);
  assert.equal(map.lookup("10.0.0.2"), undefined, "never the wrong role");
  assert.ok(lines.some((line) => line.event === "caller-conflict" && line.address === "10.0.0.2"));
  dns.web = [];
  await clock.advance(30_000);
  assert.equal(map.lookup("10.0.0.2"), "worker", "the address moved to worker");
});

test("a template makes one instance per caller address, stably, within its bound", async () => {
  const made: string[] = [];
  const template: CallerEntry<string> = {
    name: "jobs",
    callers: parseCallers("jobs", ["10.0.5.0/24"]),
    target: {
      kind: "each",
      make: (address) => {
        made.push(address);
        return `jobs@${address}`;
      },
    },
  };
  const clock = new FakeClock();
  const map = new CallerMap([template], { clock, log: logInto([]), resolve: async () => [], maxPerTemplate: 2 });
  await map.start();
  assert.equal(map.lookup("10.0.5.1"), "jobs@10.0.5.1");
  assert.equal(map.lookup("10.0.5.2"), "jobs@10.0.5.2");
  assert.equal(map.lookup("10.0.5.1"), "jobs@10.0.5.1");
  assert.deepEqual(made, ["10.0.5.1", "10.0.5.2"]);
  assert.equal(map.lookup("10.0.5.3"), undefined, "past the bound a caller is refused");
  assert.deepEqual([...map.membersOf("jobs").keys()], ["10.0.5.1", "10.0.5.2"]);
});
