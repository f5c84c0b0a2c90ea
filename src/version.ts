// Replaced at build time by `--define` (scripts/build.ts); absent when run from source.
declare const FIBRPC_VERSION: string | undefined;
declare const FIBRPC_COMMIT: string | undefined;

export const VERSION: string = typeof FIBRPC_VERSION === "string" ? FIBRPC_VERSION : "0.0.0-dev";
export const COMMIT: string = typeof FIBRPC_COMMIT === "string" ? FIBRPC_COMMIT : "unknown";
