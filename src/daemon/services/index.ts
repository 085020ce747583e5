/** Every daemon service by name. A new loader becomes a service with one module and one line here. */
import type { ServiceModule } from "../types";
import { acl, beehive, bugzilla, repocop, watch } from "./feeds";
import { repo } from "./repo";
import { selftest } from "./selftest";
import { task } from "./task";
import { vuln } from "./vuln";

export const REGISTRY: Readonly<Record<string, ServiceModule>> = {
  repo,
  task,
  selftest,
  vuln,
  acl,
  bugzilla,
  beehive,
  repocop,
  watch,
};
