import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./daemon";
import { tempDir } from "./tmp";

const ROOT = join(__dirname, "..", "..", "..");
const SOURCE = join(ROOT, "test", "e2e", "clients", "go-imds", "main.go");
/** Debian's golang-github-aws-aws-sdk-go-v2-dev puts the SDK's sources in this GOPATH tree. */
const DEBIAN_GOPATH = "/usr/share/gocode";
const SDK_VERSION_FILE = join(DEBIAN_GOPATH, "src", "github.com", "aws", "aws-sdk-go-v2", "aws", "go_module_metadata.go");
const CACHE = join(ROOT, "node_modules", ".cache", "imds-emulator-e2e");

export type GoClient =
  | { readonly binary: string; readonly built: boolean; readonly seconds: number; readonly sdkVersion: string }
  | { readonly reason: string };

function sdkVersion(): string | undefined {
  if (!existsSync(SDK_VERSION_FILE)) return undefined;
  return /goModuleVersion = "([^"]+)"/.exec(readFileSync(SDK_VERSION_FILE, "utf8"))?.[1];
}

/**
 * Builds test/e2e/clients/go-imds once and keeps the binary under node_modules/.cache, named by a
 * hash of its source, the Go toolchain and the SDK version: later runs reuse it, and the build never
 * counts in a client's time. GOPATH mode with GOPROXY=off, from Debian's sources only.
 */
export async function buildGoClient(): Promise<GoClient> {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.status !== 0) return { reason: "go is not installed: apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev" };
  const sdk = sdkVersion();
  if (sdk === undefined) return { reason: "the AWS SDK for Go v2 sources are missing: apt-get install golang-github-aws-aws-sdk-go-v2-dev" };
  const hash = createHash("sha256").update(readFileSync(SOURCE)).update(go.stdout).update(sdk).digest("hex").slice(0, 16);
  const binary = join(CACHE, `go-imds-${hash}`);
  if (existsSync(binary)) return { binary, built: false, seconds: 0, sdkVersion: sdk };

  const gopath = tempDir("imds-go-");
  const packageDir = join(gopath, "src", "imds-e2e-client");
  mkdirSync(packageDir, { recursive: true });
  mkdirSync(CACHE, { recursive: true });
  await copyFile(SOURCE, join(packageDir, "main.go"));
  const partial = `${binary}.${process.pid}.partial`;
  const started = performance.now();
  const result = await run("go", ["build", "-o", partial, "."], {
    PATH: process.env.PATH,
    HOME: gopath,
    GO111MODULE: "off",
    GOPROXY: "off",
    GOFLAGS: "",
    GOPATH: `${DEBIAN_GOPATH}:${gopath}`,
    GOCACHE: join(CACHE, "go-build"),
  }, 300_000, packageDir);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0) {
    rmSync(partial, { force: true });
    return { reason: `the Go client did not build: ${(result.stderr || result.stdout).trim().split("\n").slice(0, 5).join(" | ")}` };
  }
  renameSync(partial, binary);
  return { binary, built: true, seconds, sdkVersion: sdk };
}
