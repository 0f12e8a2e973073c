import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

/**
 * The layers of src/, lowest first, in the order data flows (docs/development.md, "How the code is laid out").
 * A module may import from its own layer or a lower one, never a higher one, and no import cycle exists.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ["clock.ts", "log.ts", "validation.ts", "secrets.ts", "addresses.ts", "listeners.ts", "bounded-read.ts", "ipv6.ts", "refusals.ts", "connections.ts", "limits.ts", "bounded-map.ts", "gate.ts", "log-format.ts", "start-log.ts"],
  ["config/"],
  ["credentials/"],
  ["instance/"],
  ["cache/", "callers/"],
  ["kubernetes/"],
  ["faults/"],
  ["imds/", "container/", "controls.ts"],
  ["admin/"],
  ["served-instance.ts"],
  ["emulator.ts", "bind.ts"],
  ["index.ts", "cli.ts", "no-inspector.ts", "banner.ts", "startup-errors.ts", "args.ts", "help.ts", "launch.ts", "capture/"],
];

const SRC = resolve(__dirname, "..", "..", "..", "src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function layerOf(file: string): number {
  const path = relative(SRC, file);
  const layer = LAYERS.findIndex((members) => members.some((member) => (member.endsWith("/") ? path.startsWith(member) : path === member)));
  assert.notEqual(layer, -1, `${path} belongs to no layer: add it to LAYERS and to docs/development.md`);
  return layer;
}

/** Relative imports of a module (static, `import type`, re-exports and `require`), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|require\(|import\()\s*"(\.{1,2}\/[^"]+)"/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => {
    const base = resolve(dirname(file), specifier);
    return statSync(`${base}.ts`, { throwIfNoEntry: false }) ? `${base}.ts` : join(base, "index.ts");
  });
}

const FILES = sources(SRC);
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

test("no module imports from a higher layer", () => {
  const upward: string[] = [];
  for (const [file, imports] of GRAPH) {
    for (const target of imports) {
      if (layerOf(target) > layerOf(file)) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(upward, []);
});

test("no import cycles", () => {
  const state = new Map<string, "active" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "active") {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(" -> "));
      return;
    }
    state.set(file, "active");
    for (const target of GRAPH.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, "done");
  };
  for (const file of FILES) visit(file, []);
  assert.deepEqual(cycles, []);
});

test("the layer check sees every module and its imports", () => {
  assert.ok(FILES.length > 20);
  assert.ok(GRAPH.get(join(SRC, "emulator.ts"))!.includes(join(SRC, "config", "config.ts")));
  assert.ok(GRAPH.get(join(SRC, "emulator.ts"))!.includes(join(SRC, "admin", "app.ts")), "require() of the lazily loaded admin listener counts");
});
