/** apt-rpm lists (pkglist / srclist / release) from plain rows: no database here. */
export * from "./header";
export * from "./lists";
export * from "./write";
