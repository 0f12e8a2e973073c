import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedMap } from "../src/bounded-map";

test("a bounded map keeps at most its limit, dropping the oldest entry first", () => {
  const map = new BoundedMap<string, number>(3);
  for (let i = 0; i < 10; i++) map.set(`k${i}`, i);
  assert.equal(map.size, 3);
  assert.equal(map.get("k6"), undefined);
  assert.deepEqual([map.get("k7"), map.get("k8"), map.get("k9")], [7, 8, 9]);
  map.set("k8", 80);
  assert.equal(map.size, 3, "replacing a key evicts nothing");
  assert.equal(map.get("k7"), 7);
  assert.equal(map.delete("k7"), true);
  assert.equal(new BoundedMap<string, number>(0).size, 0);
  const none = new BoundedMap<string, number>(0);
  none.set("a", 1);
  assert.equal(none.get("a"), undefined);
});
