import type { Clock, Timer } from "../clock";
import type { Logger } from "../log";
import type { ScenarioStep } from "./scenario";

/** What a scenario acts on: the emulator's controls, as far as its steps reach. */
export interface ScenarioTarget {
  addFault(rule: Readonly<Record<string, unknown>>): string;
  clearFaults(): number;
  named(name: string): {
    triggerEvent(kind: string, fields?: Record<string, unknown>): Date;
    overrideCredentials(fields: Record<string, unknown>): unknown;
    clearCredentialOverride(): boolean;
  };
}

const TOP = "default";

function run(step: ScenarioStep, target: ScenarioTarget): void {
  const instance = () => target.named(step.instance ?? TOP);
  switch (step.do) {
    case "fault":
      target.addFault(step.fields);
      return;
    case "event":
      instance().triggerEvent(step.kind, step.fields);
      return;
    case "expire-credentials":
      instance().overrideCredentials({ expiresIn: step.in ?? "expired" });
      return;
    case "clear":
      // Back to normal: every rule, and the instance's credentials as they are.
      target.clearFaults();
      instance().clearCredentialOverride();
      return;
  }
}

/** Plays the steps on the clock from now, logging each; returns what stops the steps still to come. */
export function playScenario(steps: readonly ScenarioStep[], target: ScenarioTarget, clock: Clock, log: Logger): { stop(): void } {
  let left = steps.length;
  log.info("scenario-started", { steps: steps.length });
  const timers: Timer[] = steps.map((step, index) =>
    clock.schedule(step.atMs, () => {
      const fields = { step: index + 1, at: `${step.atMs / 1000}s`, do: step.do, instance: step.instance ?? TOP };
      try {
        run(step, target);
        log.info("scenario-step", fields);
      } catch (error) {
        // A step that cannot act (an instance that has not appeared) is the scenario's mistake, not the daemon's end.
        log.warn("scenario-step-failed", { ...fields, reason: (error as Error).message });
      }
      if (--left === 0) log.info("scenario-finished", { steps: steps.length });
    }),
  );
  return {
    stop: () => {
      for (const timer of timers) timer.cancel();
    },
  };
}
