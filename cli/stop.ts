// Ctrl-C (SIGINT) and SIGTERM during a long command: the first asks the work to stop at its next safe point (a
// checkpoint in training, between images in evaluation); the second quits at once.
import { EXIT_INTERRUPTED } from "./exit.js";

/** Installs the handlers and returns whether a stop was asked for. */
export function stopOnSignals(): () => boolean {
  let stops = 0;
  const onSignal = () => {
    stops++;
    if (stops > 1) process.exit(EXIT_INTERRUPTED);
    process.stderr.write("\nstopping: writing a checkpoint (press Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => stops > 0;
}
