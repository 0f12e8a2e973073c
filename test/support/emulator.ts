import { createServer, type Server } from "node:http";
import supertest from "supertest";
import { resolveConfig } from "../../src/config/config";
import { createEmulator, type Emulator, type EmulatorDeps } from "../../src/emulator";
import { FakeClock } from "./fake-clock";

export interface TestEmulator {
  readonly emulator: Emulator;
  readonly clock: FakeClock;
  readonly server: Server;
  readonly http: ReturnType<typeof supertest>;
  token(ttl?: number): Promise<string>;
}

/** An emulator on the mock source and a fake clock, driven in-process through supertest. */
export async function testEmulator(
  cli: Record<string, unknown> = {},
  deps: EmulatorDeps = {},
  clock = new FakeClock(),
  file?: Record<string, unknown>,
): Promise<TestEmulator> {
  const config = resolveConfig(cli, {}, file === undefined ? undefined : { path: "test.yaml", data: file });
  const emulator = await createEmulator(config, { clock, seed: "test-seed", ...deps });
  const server = createServer(emulator.handler);
  const http = supertest(server);
  return {
    emulator,
    clock,
    server,
    http,
    async token(ttl = 21600) {
      const response = await http.put("/latest/api/token").set("X-aws-ec2-metadata-token-ttl-seconds", String(ttl));
      return response.text;
    },
  };
}
