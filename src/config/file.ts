import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { ConfigError, type ConfigFile } from "./config";

/** Reads a JSON or YAML config file; a `.json` name is parsed strictly as JSON, anything else as YAML. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`--config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    return { path, data: path.endsWith(".json") ? JSON.parse(text) : parseYaml(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`--config: ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${detail}`);
  }
}
