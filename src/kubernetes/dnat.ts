import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const METADATA_ADDRESS = "169.254.169.254";

/**
 * kube2iam's redirect: packets for EC2's metadata address that arrive on the pod interfaces are
 * sent to the emulator on the node instead. One rule per interface pattern (iptables' `+` wildcard,
 * `cni0`, `veth+`), installed once the emulator listens and removed when it stops.
 */
export interface Redirect {
  install(): Promise<void>;
  remove(): Promise<void>;
}

export function dnatRules(patterns: readonly string[], host: string, port: number): string[][] {
  return patterns.map((pattern) => ["-t", "nat", "PREROUTING", "-i", pattern, "-p", "tcp", "-d", METADATA_ADDRESS, "--dport", "80", "-j", "DNAT", "--to-destination", `${host}:${port}`]);
}

export function createRedirect(patterns: readonly string[], host: string, port: number, iptables = "iptables"): Redirect {
  const rules = dnatRules(patterns, host, port);
  const apply = (action: "-A" | "-D" | "-C", rule: string[]) => {
    const [table, name, chain, ...match] = rule;
    return run(iptables, ["-w", table!, name!, action, chain!, ...match]);
  };
  let installed: string[][] = [];
  return {
    async install() {
      for (const rule of rules) {
        // Already there (a restart after a crash): one copy is enough.
        const present = await apply("-C", rule).then(() => true, () => false);
        if (!present) await apply("-A", rule);
        installed.push(rule);
      }
    },
    async remove() {
      const removing = installed;
      installed = [];
      await Promise.all(removing.map((rule) => apply("-D", rule).catch(() => undefined)));
    },
  };
}
