// Preloaded into `next start` by the AppHost (node --require): ends the server when the AppHost that started it is
// gone — SIGKILLed, say, so it could not stop us — as the .NET services' ParentProcessWatcher does. The AppHost passes
// its PID in PLATFORM_PARENT_PID; once the kernel has re-parented this process, /proc/self/stat names another parent.
// (Node reads process.ppid once at start-up, so it cannot tell.)
"use strict";
const { readFileSync } = require("node:fs");

const parent = Number(process.env.PLATFORM_PARENT_PID);
if (Number.isInteger(parent) && parent > 0 && process.platform === "linux") {
  const currentParent = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[1]);
  setInterval(() => {
    if (currentParent() === parent) return;
    console.error(`parent process ${parent} is gone; stopping`);
    process.kill(process.pid, "SIGTERM"); // Next closes its server on SIGTERM
    setTimeout(() => process.exit(1), 10_000).unref();
  }, 500).unref();
}
