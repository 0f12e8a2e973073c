import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createNetns, type Netns } from "./netns";

/**
 * A small network of the test's own: the emulator's namespace holds a bridge with EC2's metadata
 * address (and the LAN's gateway address), and each caller namespace sits on a veth attached to that
 * bridge, with its own address and a route to the metadata address. As on a compose network, each
 * caller reaches 169.254.169.254 from an address of its own.
 */
export interface Lan {
  readonly emulator: Netns;
  readonly gateway: string;
  readonly callers: ReadonlyMap<string, { readonly netns: Netns; readonly address: string }>;
  /**
   * Makes each caller's name resolve to its address inside the emulator's namespace, as Docker's DNS
   * resolves compose service names (`ip netns exec` puts /etc/netns/<name>/hosts in place of /etc/hosts).
   */
  nameCallers(): void;
  destroy(): void;
}

export const METADATA_ADDRESS = "169.254.169.254";

function ip(...args: string[]): { ok: boolean; out: string } {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: result.status === 0, out: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** `callers` maps a caller's name to its last address octet in 10.231.0.0/24; the gateway is .1. */
export function createLan(prefix: string, callers: Readonly<Record<string, number>>): Lan | string {
  const emulator = createNetns([], `${prefix}-emu`);
  if (typeof emulator === "string") return emulator;
  const made: Netns[] = [emulator];
  const hostsDir = `/etc/netns/${emulator.name}`;
  const destroy = () => {
    for (const netns of made.reverse()) netns.destroy();
    rmSync(hostsDir, { recursive: true, force: true });
  };
  const gateway = "10.231.0.1";
  const steps: string[][] = [
    ["-n", emulator.name, "link", "add", "br0", "type", "bridge"],
    ["-n", emulator.name, "addr", "add", `${gateway}/24`, "dev", "br0"],
    ["-n", emulator.name, "addr", "add", `${METADATA_ADDRESS}/32`, "dev", "br0"],
    ["-n", emulator.name, "link", "set", "br0", "up"],
  ];
  const members = new Map<string, { netns: Netns; address: string }>();
  for (const [name, octet] of Object.entries(callers)) {
    const netns = createNetns([], `${prefix}-${name}`);
    if (typeof netns === "string") {
      destroy();
      return netns;
    }
    made.push(netns);
    const address = `10.231.0.${octet}`;
    members.set(name, { netns, address });
    const veth = `v${name}`.slice(0, 15);
    steps.push(
      ["-n", emulator.name, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns.name],
      ["-n", emulator.name, "link", "set", veth, "master", "br0", "up"],
      ["-n", netns.name, "addr", "add", `${address}/24`, "dev", "eth0"],
      ["-n", netns.name, "link", "set", "eth0", "up"],
      ["-n", netns.name, "route", "add", `${METADATA_ADDRESS}/32`, "via", gateway],
    );
  }
  for (const step of steps) {
    const done = ip(...step);
    if (!done.ok) {
      destroy();
      return `ip ${step.join(" ")} failed: ${done.out}`;
    }
  }
  const nameCallers = () => {
    mkdirSync(hostsDir, { recursive: true });
    const lines = ["127.0.0.1 localhost", "::1 localhost", ...[...members].map(([name, { address }]) => `${address} ${name}`)];
    writeFileSync(`${hostsDir}/hosts`, `${lines.join("\n")}\n`);
  };
  return { emulator, gateway, callers: members, nameCallers, destroy };
}
