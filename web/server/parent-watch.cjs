// Preloaded into `next start` by the AppHost (node --require): ends the server when the AppHost that started it is
// gone — SIGKILLed, say, so it could not stop us — as the .NET services' ParentProcessWatcher does. The AppHost passes
// its PID in PLATFORM_PARENT_PID; once the kernel has re-parented this process, /proc/self/stat names another parent.
// (Node reads process.ppid once at start-up, so it cannot tell.)
"use strict";
const { readFileSync } = require("node:fs");

/** The parent's PID from /proc/self/stat: the fields after the command name, which ends at the last ")". */
function currentParent() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

const parent = Number(process.env.PLATFORM_PARENT_PID);
if (Number.isInteger(parent) && parent > 0 && process.platform === "linux") {
  const watch = setInterval(() => {
    let now;
    try {
      now = currentParent();
    } catch {
      return; // /proc unreadable for a moment (EMFILE under load): look again next time
    }
    if (now === parent) return;
    clearInterval(watch);
    console.error(`parent process ${parent} is gone; stopping`);
    process.kill(process.pid, "SIGTERM"); // Next closes its server on SIGTERM
    setTimeout(() => process.exit(1), 10_000).unref();
  }, 500);
  watch.unref();
}
