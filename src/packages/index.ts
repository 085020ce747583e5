/** The package path shared by the repo, task and package loaders. */
export { PackageStore, type StoreOptions } from "./store";
export type { PackageFile, PackageOutcome, PackageLoadOptions } from "./types";
