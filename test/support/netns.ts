import { spawn, spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

/**
 * A network namespace of the test's own, where 169.254.169.254 and fd00:ec2::254 are on loopback.
 * Anything that talks to those addresses must run through `exec`: from the machine's own namespace
 * they may reach a cloud host's real metadata service.
 */
export interface Netns {
  readonly name: string;
  /** Prefix that runs a command inside the namespace. */
  readonly exec: readonly string[];
  /** Whether an HTTP GET of `url`, made from inside the namespace, gets any answer. */
  reachable(url: string): Promise<boolean>;
  /** The processes running inside the namespace now. */
  pids(): number[];
  /** IPv6 packets received in the namespace so far: proof that a client used the IPv6 endpoint. */
  ipv6Received(): number;
  /**
   * Adds a network interface (a tap device, left down: nothing is sent on it) with this MAC address,
   * for readers that match the served MAC to a NIC. Returns why it failed, or undefined.
   */
  addInterface(name: string, mac: string): string | undefined;
  /** Kills what still runs inside, deletes the namespace; returns the pids it killed. Idempotent. */
  destroy(): number[];
}

function ip(...args: string[]): { ok: boolean; out: string } {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: result.status === 0, out: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ?? ""}`.trim() };
}

function pidsOf(name: string): number[] {
  return ip("netns", "pids", name).out.split("\n").filter(Boolean).map(Number);
}

/** The names of the machine's named network namespaces. */
export function netnsNames(): string[] {
  return ip("netns", "list").out.split("\n").filter(Boolean).map((line) => line.split(" ")[0]!);
}

/** Why this machine cannot make a namespace at all, or undefined when it can try. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root (run the suite as root, as CI does)";
  if (spawnSync("ip", ["-V"], { stdio: "ignore" }).status !== 0) return "`ip` is missing: apt-get install iproute2";
  return undefined;
}

/**
 * Creates the namespace with the metadata addresses on its loopback. Returns a reason string when
 * this machine cannot; `requireNetns` turns that into a skip, or a failure under CI.
 */
export function createNetns(addresses: readonly string[], name = `imds-e2e-${process.pid}`): Netns | string {
  const unavailable = netnsUnavailable();
  if (unavailable !== undefined) return unavailable;
  const added = ip("netns", "add", name);
  if (!added.ok) return `ip netns add ${name} failed: ${added.out}`;

  let destroyed = false;
  const destroy = (): number[] => {
    if (destroyed) return [];
    destroyed = true;
    process.off("exit", destroy);
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.off(signal, onSignal);
    const pids = pidsOf(name);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    ip("netns", "del", name);
    return pids;
  };
  // An interrupted run must not leave the namespace (or the daemon inside it) behind.
  const onSignal = (signal: NodeJS.Signals) => {
    destroy();
    process.kill(process.pid, signal);
  };
  process.once("exit", destroy);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, onSignal);

  const exec = ["ip", "netns", "exec", name];
  const setup = [["link", "set", "lo", "up"], ...addresses.map((address) => ["addr", "add", address, "dev", "lo"])];
  for (const args of setup) {
    const step = ip("-n", name, ...args);
    if (!step.ok) {
      destroy();
      return `ip -n ${name} ${args.join(" ")} failed: ${step.out}`;
    }
  }

  return {
    name,
    exec,
    destroy,
    pids: () => pidsOf(name),
    reachable: (url) =>
      new Promise((resolve) => {
        const probe = "fetch(process.argv[1]).then(() => process.exit(0), () => process.exit(1))";
        const child = spawn(exec[0]!, [...exec.slice(1), process.execPath, "-e", probe, url], { stdio: "ignore" });
        child.once("error", () => resolve(false));
        child.once("exit", (code) => resolve(code === 0));
      }),
    addInterface: (nic, mac) => {
      for (const args of [["tuntap", "add", "dev", nic, "mode", "tap"], ["link", "set", nic, "address", mac]]) {
        const step = ip("-n", name, ...args);
        if (!step.ok) return `ip -n ${name} ${args.join(" ")} failed: ${step.out}`;
      }
      return undefined;
    },
    ipv6Received: () => {
      const snmp6 = spawnSync(exec[0]!, [...exec.slice(1), "cat", "/proc/net/snmp6"], { encoding: "utf8" }).stdout;
      return Number(/^Ip6InReceives\s+(\d+)$/m.exec(snmp6 ?? "")?.[1] ?? NaN);
    },
  };
}

/** Skips the test with a visible reason, except under CI where the namespace must be there. */
export function requireNetns(netns: Netns | string | undefined, t: TestContext): netns is Netns {
  if (typeof netns === "object") return true;
  const reason = `end-to-end at the real address skipped: ${netns ?? "no namespace"}`;
  if (process.env.CI === "true") throw new Error(reason);
  t.skip(reason);
  return false;
}
