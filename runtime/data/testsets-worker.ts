// A worker thread of `runImageJobs` (testsets.ts): runs one image job per message and answers with its manifest
// entries. Messages in: { index, job }. Out: { type: "done", index, entries } or { type: "error", ... }.

import { parentPort } from "node:worker_threads";
import { MioRuntimeError } from "../errors.js";
import { type ImageJob, processImage } from "./testsets.js";

const port = parentPort;
if (!port) throw new Error("testsets-worker.js must run as a worker thread");

port.on("message", async (m: { index: number; job: ImageJob }) => {
  try {
    port.postMessage({ type: "done", index: m.index, entries: await processImage(m.job) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      type: "error",
      index: m.index,
      message: err.message,
      user: e instanceof MioRuntimeError,
      stack: err.stack,
    });
  }
});
