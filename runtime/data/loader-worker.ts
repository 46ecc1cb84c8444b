// The loader's worker thread: builds a Sampler from the config it is sent and answers sample requests.
// Messages in:  { type: "init", config, cacheBytes } then { type: "sample", index } (any number, any order).
// Messages out: { type: "sample", sample } (LQ/GT buffers transferred) or { type: "error", index, message, stack,
// input, hint } (input: an MioInputError, such as a source with no readable image, which the loader rethrows as one).

import { parentPort } from "node:worker_threads";
import { MioInputError } from "../errors.js";
import { Sampler, type SamplerConfig } from "./sampler.js";

type In = { type: "init"; config: SamplerConfig; cacheBytes: number } | { type: "sample"; index: number };

const port = parentPort;
if (!port) throw new Error("loader-worker.js must run as a worker thread");

let sampler: Sampler | undefined;
// One request at a time keeps the decoded-image cache and the CPU to this sample; requests queue in order.
let queue: Promise<void> = Promise.resolve();

port.on("message", (m: In) => {
  if (m.type === "init") {
    sampler = new Sampler(m.config, m.cacheBytes);
    return;
  }
  const index = m.index;
  queue = queue.then(async () => {
    try {
      if (!sampler) throw new Error("sample requested before init");
      const s = await sampler.sample(index);
      port.postMessage({ type: "sample", sample: s }, [s.lq.buffer as ArrayBuffer, s.gt.buffer as ArrayBuffer]);
    } catch (e) {
      const input = e instanceof MioInputError;
      port.postMessage({
        type: "error",
        index,
        message: (e as Error).message,
        stack: (e as Error).stack,
        input,
        ...(input && e.hint ? { hint: e.hint } : {}),
      });
    }
  });
});
