import * as nodeModule from "node:module";

/**
 * Node 22 can keep the bytecode of the modules it compiles on disk (module.enableCompileCache, in the
 * system's temporary directory), so a second start skips most of the compiling. The CLI imports this
 * right after no-inspector, before the modules it would speed up; Node 20 has no such cache.
 */
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
