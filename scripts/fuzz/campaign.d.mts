// Types of scripts/fuzz/campaign.mjs for the test that runs a short campaign (tests/compiler/language/fuzz.test.ts).
export type Outcome = "compiled" | "checked" | "diagnostics" | "internal" | "hang" | "crash";

export interface Failure {
  seed: number;
  index: number;
  file: string;
  mutations: string[];
  outcome: Outcome;
  stage: "check" | "lower" | "compile";
  message?: string;
  ms: number;
}

export interface CampaignResult {
  counts: Record<Outcome, number>;
  failures: Failure[];
  signatures: { signature: string; count: number; example: Failure }[];
  slowest: { index: number; ms: number; outcome: Outcome; file: string }[];
  seconds: number;
}

export function signature(f: Failure): string;

export function runCampaign(options?: {
  n?: number;
  seed?: number;
  from?: number;
  timeoutMs?: number;
  jobs?: number;
  out?: string;
  log?: (line: string) => void;
}): Promise<CampaignResult>;
